// TLS contexts under the FAPI policy (FAPI 2.0 SP §5.2.2, FAPI 1.0 Part 2 §8.5): TLS 1.3, or
// TLS 1.2 with only the permitted cipher suites; no renegotiation, no compression. A Context is
// an immutable, shareable handle to an OpenSSL SSL_CTX (reference-counted), safe to use from
// many threads to create connections. No Asio here: http/*.cpp wrap the SSL_CTX for their streams.
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace fapigate::tls {

enum class TlsErrc {
  CertificateFile = 1,  // the certificate (chain) file is missing or not PEM certificates
  KeyFile,              // the private key file is missing or not a PEM private key
  KeyMismatch,          // the private key does not belong to the certificate
  ClientCaFile,         // the client CA bundle is missing or holds no certificate
  CaFile,               // the trust anchors for server verification could not be loaded
  Policy,               // OpenSSL refused the FAPI protocol / cipher / group policy
  MissingSetting,       // a required setting (e.g. client_ca_file for client certs) is empty
  Internal,             // an OpenSSL call failed unexpectedly
};
ErrorCode make_error_code(TlsErrc e);

// TLS 1.2 suites (OpenSSL names). FAPI 2.0 SP §5.2.2-1 allows only the BCP195 (RFC 9325 §4.2)
// recommended ones, ECDHE with AES-GCM; of those, FAPI 1.0 Part 2 §8.5 lists the ECDHE-RSA
// pair, so these two satisfy both profiles. The server keys are RSA (the FAPI 1.0 list has no
// ECDSA suite).
inline constexpr const char* kFapiTls12Ciphers =
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
// FAPI 1.0 Part 2 §8.5's other two, offered only where a listener sets tls12_dhe_suites.
inline constexpr const char* kFapi1Tls12CiphersWithDhe =
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";
inline constexpr const char* kFapiGroups = "X25519:P-256";

class Context {
public:
  Context() = default;
  // Takes ownership of one reference.
  explicit Context(SSL_CTX* ctx);

  SSL_CTX* native_handle() const { return ctx_.get(); }
  bool valid() const { return ctx_ != nullptr; }

private:
  std::shared_ptr<SSL_CTX> ctx_;
};

}  // namespace fapigate::tls

template <>
struct boost::system::is_error_code_enum<fapigate::tls::TlsErrc> : std::true_type {};

namespace fapigate::tls::detail {
// Shared by both sides: minimum TLS 1.2, the FAPI TLS 1.2 suites (with FAPI 1.0's DHE pair
// when `dhe_suites`), default TLS 1.3 suites, X25519/P-256, no renegotiation, no compression.
// false if OpenSSL refused a setting.
bool apply_fapi_policy(SSL_CTX* ctx, bool dhe_suites = false);
// The queued OpenSSL error text (then cleared), for messages.
std::string openssl_error_text();
// Logs a context-building failure naming the file, fills *error_detail (when given) with a
// message for the operator, and returns `code`.
ErrorCode fail(TlsErrc code, std::string_view what, const std::string& file,
               std::string* error_detail);
}  // namespace fapigate::tls::detail
