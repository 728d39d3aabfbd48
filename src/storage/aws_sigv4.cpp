#include "storage/aws_sigv4.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/strings.hpp"

namespace siprecd::storage {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

using Digest = std::array<unsigned char, 32>;

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hexDigitValue(text[i + 1]);
      const int low = hexDigitValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string toHex(std::span<const unsigned char> bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kLowerHex[byte >> 4]);
    hex.push_back(kLowerHex[byte & 0x0f]);
  }
  return hex;
}

Digest hmacSha256(std::span<const unsigned char> key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  // A built-in digest cannot fail short of memory exhaustion: a broken invariant.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr ||
      length != out.size()) {
    std::abort();
  }
  return out;
}

std::string_view trimSpaces(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

/// Trims and collapses inner runs of spaces to one (SigV4 "Trimall").
std::string trimAll(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : trimSpaces(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
  }
  return out;
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

std::string awsUriEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (isUnreserved(byte) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[byte >> 4]);
      out.push_back(kUpperHex[byte & 0x0f]);
    }
  }
  return out;
}

std::string canonicalQuery(const NameValues& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(awsUriEncode(name, false), awsUriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

NameValues parseQuery(std::string_view raw) {
  NameValues query;
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos) {
      query.emplace_back(percentDecode(pair), std::string());
    } else {
      query.emplace_back(percentDecode(pair.substr(0, equals)),
                         percentDecode(pair.substr(equals + 1)));
    }
  }
  return query;
}

std::pair<std::string, std::string> canonicalHeaders(const NameValues& headers) {
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = merged.try_emplace(lowerAscii(trimSpaces(name)), trimAll(value));
    if (!inserted) {
      it->second += ',';
      it->second += trimAll(value);
    }
  }
  std::string block;
  std::string names;
  for (const auto& [name, value] : merged) {
    block += name;
    block.push_back(':');
    block += value;
    block.push_back('\n');
    if (!names.empty()) {
      names.push_back(';');
    }
    names += name;
  }
  return {block, names};
}

std::string amzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

SigV4Signature signSigV4(const SigV4Request& request, const AwsCredentials& credentials,
                         std::string_view region, std::string_view service,
                         std::string_view amz_date) {
  SigV4Signature out;
  auto [header_block, signed_headers] = canonicalHeaders(request.headers);
  out.signed_headers = std::move(signed_headers);
  out.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                                      request.canonical_path, canonicalQuery(request.query),
                                      header_block, out.signed_headers, request.payload_sha256);
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  out.string_to_sign =
      fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, sha256Hex(out.canonical_request));

  const std::string secret = "AWS4" + credentials.secret_access_key;
  const auto as_bytes = [](std::string_view text) {
    return std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size());
  };
  const Digest date_key = hmacSha256(as_bytes(secret), date);
  const Digest region_key = hmacSha256(date_key, region);
  const Digest service_key = hmacSha256(region_key, service);
  const Digest signing_key = hmacSha256(service_key, "aws4_request");
  out.signature = toHex(hmacSha256(signing_key, out.string_to_sign));
  out.authorization =
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                  credentials.access_key_id, scope, out.signed_headers, out.signature);
  return out;
}

std::string sha256Hex(std::string_view data) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    std::abort();
  }
  return toHex(digest);
}

std::string base64Encode(std::span<const std::byte> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) {
    return out;
  }
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

std::string hexToBase64(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return {};
  }
  std::vector<std::byte> bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hexDigitValue(hex[i]);
    const int low = hexDigitValue(hex[i + 1]);
    if (high < 0 || low < 0) {
      return {};
    }
    bytes.push_back(static_cast<std::byte>(high * 16 + low));
  }
  return base64Encode(bytes);
}

}  // namespace siprecd::storage
