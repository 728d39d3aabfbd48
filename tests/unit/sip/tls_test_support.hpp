#pragma once

// TLS test support: a self-signed certificate made with the OpenSSL API and an asio TLS
// client with deadlines.

#include <cstdio>
#include <filesystem>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/random.hpp"
#include "base/result.hpp"
#include "sip/asio_headers.hpp"

namespace siprecd::sip::testing {

/// A self-signed certificate (CA:TRUE, so it can also be its own trust anchor) and key,
/// written as PEM files into a fresh temporary directory.
class TestCertificate {
 public:
  TestCertificate() {
    directory_ = std::filesystem::temp_directory_path() / ("siprecd-tls-" + randomToken(10));
    std::filesystem::create_directories(directory_);
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
    X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
    X509_set_pubkey(certificate, key);
    X509_NAME* name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("siprecd-test"), -1, -1, 0);
    X509_set_issuer_name(certificate, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    for (const auto& [nid, value] :
         {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
          std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"},
          std::pair{NID_subject_alt_name, "IP:127.0.0.1"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      X509_add_ext(certificate, extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(certificate, key, EVP_sha256());
    FILE* key_file = std::fopen(keyFile().c_str(), "w");
    PEM_write_PrivateKey(key_file, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(key_file);
    FILE* certificate_file = std::fopen(certificateFile().c_str(), "w");
    PEM_write_X509(certificate_file, certificate);
    std::fclose(certificate_file);
    X509_free(certificate);
    EVP_PKEY_free(key);
  }
  ~TestCertificate() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  std::string certificateFile() const { return (directory_ / "cert.pem").string(); }
  std::string keyFile() const { return (directory_ / "key.pem").string(); }

 private:
  std::filesystem::path directory_;
};

/// A blocking-style TLS client over asio with a deadline on every step.
class TlsClient {
 public:
  TlsClient(const TestCertificate& certificate, bool present_certificate)
      : context_(makeContext(certificate, present_certificate)), stream_(io_, context_) {}

  std::error_code connect(uint16_t port) {
    std::error_code result = asio::error::timed_out;
    stream_.next_layer().async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
        [&](const std::error_code& error) {
          result = error;
          if (!error) {
            stream_.async_handshake(asio::ssl::stream_base::client,
                                    [&](const std::error_code& handshake) { result = handshake; });
          }
        });
    run();
    return result;
  }

  std::error_code write(const std::string& bytes) {
    std::error_code result = asio::error::timed_out;
    asio::async_write(stream_, asio::buffer(bytes),
                      [&](const std::error_code& error, std::size_t) { result = error; });
    run();
    return result;
  }

  /// Reads one Content-Length: 0 message (headers only).
  Result<std::string> readHead() {
    std::error_code result = asio::error::timed_out;
    std::size_t length = 0;
    asio::async_read_until(stream_, asio::dynamic_buffer(buffer_), "\r\n\r\n",
                           [&](const std::error_code& error, std::size_t n) {
                             result = error;
                             length = n;
                           });
    run();
    if (result) {
      return fail(result.message());
    }
    std::string head = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return head;
  }

 private:
  // Configured before the stream exists: an SSL object copies its context's settings.
  static asio::ssl::context makeContext(const TestCertificate& certificate,
                                        bool present_certificate) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.load_verify_file(certificate.certificateFile());
    context.set_verify_mode(asio::ssl::verify_peer);
    if (present_certificate) {
      context.use_certificate_chain_file(certificate.certificateFile());
      context.use_private_key_file(certificate.keyFile(), asio::ssl::context::pem);
    }
    return context;
  }

  void run() {
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
  }

  asio::io_context io_;
  asio::ssl::context context_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  std::string buffer_;
};

}  // namespace siprecd::sip::testing
