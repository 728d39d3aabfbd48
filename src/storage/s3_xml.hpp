#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// S3's XML documents (S3 API reference: "Error responses", CreateMultipartUpload,
/// CompleteMultipartUpload). S3 answers are small, flat documents; a tag scan is enough
/// and never throws on bad input.
namespace siprecd::storage {

/// The <Error> document S3 answers a failed request with.
struct S3ErrorDocument {
  std::string code;     ///< "AccessDenied", "SignatureDoesNotMatch", ...
  std::string message;  ///< S3's human-readable message
};

/// The <Error><Code> (and <Message>) of `body`; nullopt when `body` holds no <Error>
/// element with a non-empty <Code>. Both texts are unescaped, stripped of control
/// characters and cut to 200 bytes (they end up in events).
std::optional<S3ErrorDocument> parseS3Error(std::string_view body);

/// The unescaped text of the first element named `name` (no namespace prefix) in `xml`;
/// nullopt when absent. "<UploadId>abc</UploadId>" → "abc".
std::optional<std::string> xmlElementText(std::string_view xml, std::string_view name);

/// `text` with & < > " ' escaped for XML content.
std::string xmlEscape(std::string_view text);

/// Whether an S3 answer is worth another attempt: 5xx, 408 and 429, and the error codes
/// S3 documents as transient (RequestTimeout, SlowDown, InternalError, ServiceUnavailable,
/// Throttling, ThrottlingException, RequestLimitExceeded) whatever their status.
bool isRetryableS3Error(long status, std::string_view code);

/// A part as CompleteMultipartUpload lists it.
struct S3CompletedPart {
  uint32_t number = 0;
  std::string etag;             ///< as UploadPart answered it, quotes included
  std::string checksum_sha256;  ///< base64; omitted from the document when empty
};

/// The CompleteMultipartUpload request body listing `parts` (in the given order, which
/// must be ascending part numbers).
std::string completeMultipartUploadXml(const std::vector<S3CompletedPart>& parts);

}  // namespace siprecd::storage
