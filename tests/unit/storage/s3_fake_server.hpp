#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strings.hpp"
#include "storage/aws_sigv4.hpp"
#include "storage/s3_xml.hpp"

// Not `siprecd::testing`: unqualified `testing::Test` inside siprecd would then find it.
namespace siprecd::test_support {

/// A tiny S3 on 127.0.0.1 (any free port) for the S3 destination's unit tests: one thread
/// serving one connection at a time (Connection: close), path-style requests, PutObject
/// and the multipart calls, each request's Signature V4 recomputed with the known secret
/// and its x-amz-content-sha256 / x-amz-checksum-sha256 checked against the body (403
/// SignatureDoesNotMatch / 400 BadDigest otherwise). `intercept` may answer a request
/// first (fault injection).
class S3FakeServer {
 public:
  struct Request {
    std::string method, path, query;             ///< path and query as received (encoded)
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;
  };
  struct Response {
    int status = 200;
    std::string body;
    std::map<std::string, std::string> headers;
  };
  using Interceptor = std::function<std::optional<Response>(const Request&, std::size_t index)>;

  S3FakeServer(std::string access_key_id, std::string secret, std::string region = "us-east-1")
      : access_key_id_(std::move(access_key_id)),
        secret_(std::move(secret)),
        region_(std::move(region)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::abort();
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~S3FakeServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  S3FakeServer(const S3FakeServer&) = delete;
  S3FakeServer& operator=(const S3FakeServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void intercept(Interceptor interceptor) {
    std::lock_guard lock(mutex_);
    interceptor_ = std::move(interceptor);
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  /// The stored object "bucket/key" (path as in the request line, decoded of nothing).
  std::optional<std::string> object(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(path);
    return it == objects_.end() ? std::nullopt : std::optional(it->second.body);
  }
  std::optional<Request> objectRequest(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(path);
    return it == objects_.end() ? std::nullopt : std::optional(it->second.created_by);
  }
  std::size_t openUploads() const {
    std::lock_guard lock(mutex_);
    return uploads_.size();
  }

  static Response error(int status, const std::string& code, const std::string& message = "") {
    return Response{status,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                        "</Code><Message>" + message + "</Message><RequestId>1</RequestId></Error>",
                    {{"Content-Type", "application/xml"}}};
  }

 private:
  struct StoredObject {
    std::string body;
    Request created_by;
  };
  struct Upload {
    std::string path;
    Request created_by;
    std::map<uint32_t, std::pair<std::string, std::string>> parts;  // number -> etag, body
  };

  void serve() {
    while (!stopping_) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      if (auto request = readRequest(fd)) {
        writeResponse(fd, handle(*request));
      }
      ::close(fd);
    }
  }

  static std::optional<Request> readRequest(int fd) {
    std::string data;
    char buffer[65536];
    std::size_t head_end = std::string::npos;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      data.append(buffer, static_cast<std::size_t>(n));
    }
    Request request;
    const auto lines = split(std::string_view(data).substr(0, head_end), '\n');
    const auto start = split(trim(lines.at(0)), ' ');
    request.method = std::string(start.at(0));
    const std::string_view target = start.at(1);
    const auto question = target.find('?');
    request.path = std::string(target.substr(0, question));
    request.query =
        question == std::string_view::npos ? "" : std::string(target.substr(question + 1));
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const auto colon = lines[i].find(':');
      if (colon != std::string_view::npos) {
        request.headers[toLower(trim(lines[i].substr(0, colon)))] =
            std::string(trim(lines[i].substr(colon + 1)));
      }
    }
    const std::size_t length =
        request.headers.contains("content-length")
            ? static_cast<std::size_t>(parseUnsigned(request.headers["content-length"]).value_or(0))
            : 0;
    request.body = data.substr(head_end + 4);
    while (request.body.size() < length) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      request.body.append(buffer, static_cast<std::size_t>(n));
    }
    return request;
  }

  static void writeResponse(int fd, const Response& response) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " X\r\n";
    for (const auto& [name, value] : response.headers) {
      out += name + ": " + value + "\r\n";
    }
    out += "Content-Length: " + std::to_string(response.body.size()) +
           "\r\nConnection: close\r\n\r\n" + response.body;
    for (std::size_t sent = 0; sent < out.size();) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
  }

  /// Recomputes the signature from the headers named in SignedHeaders.
  std::optional<Response> verify(const Request& request) const {
    const auto auth = request.headers.find("authorization");
    if (auth == request.headers.end()) {
      return error(403, "AccessDenied", "no Authorization");
    }
    const std::string& value = auth->second;
    const auto credential = value.find("Credential=");
    const auto signed_at = value.find("SignedHeaders=");
    if (credential == std::string::npos || signed_at == std::string::npos ||
        value.compare(credential + 11, access_key_id_.size(), access_key_id_) != 0) {
      return error(403, "InvalidAccessKeyId", "unknown key");
    }
    const auto list_end = value.find(',', signed_at);
    storage::SigV4Request canonical;
    canonical.method = request.method;
    canonical.canonical_path = request.path;
    canonical.query = storage::parseQuery(request.query);
    canonical.payload_sha256 = request.headers.at("x-amz-content-sha256");
    const std::string signed_list = value.substr(signed_at + 14, list_end - signed_at - 14);
    for (auto name : split(signed_list, ';')) {
      auto it = request.headers.find(std::string(name));
      if (it == request.headers.end()) {
        return error(403, "SignatureDoesNotMatch", "signed header missing");
      }
      canonical.headers.emplace_back(it->first, it->second);
    }
    const auto signature = storage::signSigV4(canonical, {access_key_id_, secret_, ""}, region_,
                                              "s3", request.headers.at("x-amz-date"));
    if (signature.authorization != value) {
      return error(403, "SignatureDoesNotMatch",
                   "The request signature we calculated does not match");
    }
    if (canonical.payload_sha256 != storage::sha256Hex(request.body)) {
      return error(400, "XAmzContentSHA256Mismatch");
    }
    if (auto checksum = request.headers.find("x-amz-checksum-sha256");
        checksum != request.headers.end() &&
        checksum->second != storage::hexToBase64(storage::sha256Hex(request.body))) {
      return error(400, "BadDigest");
    }
    return std::nullopt;
  }

  Response handle(const Request& request) {
    std::unique_lock lock(mutex_);
    const std::size_t index = requests_.size();
    requests_.push_back(request);
    Interceptor interceptor = interceptor_;
    lock.unlock();
    if (interceptor) {
      if (auto answer = interceptor(request, index)) {
        return *answer;
      }
    }
    if (auto rejected = verify(request)) {
      return *rejected;
    }
    const auto query = storage::parseQuery(request.query);
    auto param = [&](const std::string& name) -> std::optional<std::string> {
      for (const auto& [n, v] : query) {
        if (n == name) {
          return v;
        }
      }
      return std::nullopt;
    };
    lock.lock();
    if (request.method == "PUT" && !param("uploadId")) {
      objects_[request.path] = StoredObject{request.body, request};
      return Response{200, "", {{"ETag", "\"" + storage::sha256Hex(request.body) + "\""}}};
    }
    if (request.method == "POST" && param("uploads")) {
      const std::string id = "upload-" + std::to_string(++upload_counter_);
      uploads_[id] = Upload{request.path, request, {}};
      return Response{200,
                      "<InitiateMultipartUploadResult><UploadId>" + id +
                          "</UploadId></InitiateMultipartUploadResult>",
                      {}};
    }
    const auto id = param("uploadId");
    auto upload = id ? uploads_.find(*id) : uploads_.end();
    if (upload == uploads_.end()) {
      return error(404, "NoSuchUpload");
    }
    if (request.method == "PUT") {
      const auto number =
          static_cast<uint32_t>(parseUnsigned(param("partNumber").value_or("0")).value_or(0));
      const std::string etag = "\"etag-" + std::to_string(number) + "\"";
      upload->second.parts[number] = {etag, request.body};
      return Response{200, "", {{"ETag", etag}}};
    }
    if (request.method == "DELETE") {
      uploads_.erase(upload);
      return Response{204, "", {}};
    }
    // CompleteMultipartUpload: the listed parts, in order, with matching ETags and checksums.
    std::string body;
    std::string_view rest = request.body;
    uint32_t expected = 1;
    for (auto part = storage::xmlElementText(rest, "Part"); part;
         part = storage::xmlElementText(rest, "Part")) {
      const auto number = static_cast<uint32_t>(
          parseUnsigned(storage::xmlElementText(*part, "PartNumber").value_or("")).value_or(0));
      auto stored = upload->second.parts.find(number);
      if (number != expected++ || stored == upload->second.parts.end() ||
          storage::xmlElementText(*part, "ETag") != stored->second.first ||
          storage::xmlElementText(*part, "ChecksumSHA256") !=
              storage::hexToBase64(storage::sha256Hex(stored->second.second))) {
        return error(400, "InvalidPart");
      }
      body += stored->second.second;
      rest = rest.substr(rest.find("</Part>") + 7);
    }
    if (expected == 1) {
      return error(400, "MalformedXML");
    }
    objects_[upload->second.path] = StoredObject{body, upload->second.created_by};
    uploads_.erase(upload);
    return Response{
        200,
        "<CompleteMultipartUploadResult><ETag>\"x\"</ETag></CompleteMultipartUploadResult>",
        {}};
  }

  const std::string access_key_id_, secret_, region_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  Interceptor interceptor_;
  std::vector<Request> requests_;
  std::map<std::string, StoredObject> objects_;
  std::map<std::string, Upload> uploads_;
  int upload_counter_ = 0;
};

}  // namespace siprecd::test_support
