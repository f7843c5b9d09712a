// A small development PKI (fapigate pki init, the demo, tests): a CA, TLS server certificates
// for loopback names and client certificates for partners. Certificates are X.509 v3 with the
// extensions a real chain needs (basicConstraints, keyUsage, extendedKeyUsage, SKI/AKI).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "crypto/key.hpp"

namespace fapigate::crypto {

struct IssuedCertificate {
  Key key;
  std::string cert_pem;
  std::string key_pem;
  std::string der;
};

struct CaOptions {
  std::string common_name = "fapigate demo CA";
  std::string organization = "fapigate";
  int days = 3650;
  KeyType key_type = KeyType::Ec;
  // basicConstraints pathlen (RFC 5280 §4.2.1.9): 0 issues end-entity certificates only; 1
  // may issue one level of intermediate CAs (issue_intermediate_ca), as a directory's root does.
  int path_length = 0;
};

struct LeafOptions {
  std::string common_name;
  std::string organization = "fapigate";
  std::string organizational_unit;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int days = 825;
  KeyType key_type = KeyType::Ec;
  int rsa_bits = 2048;
  std::int64_t not_before_offset_seconds = -300;  // backdate a little for clock skew
};

// Self-signed; basicConstraints critical CA:TRUE, pathlen:0; keyUsage keyCertSign, cRLSign;
// SKI. Serials are 16 random bytes; signatures SHA-256 (ECDSA or RSA PKCS#1 v1.5) or Ed25519.
// Bad options give InvalidArgument. Thread-safe (no shared state).
[[nodiscard]] Result<IssuedCertificate> issue_ca(const CaOptions& options);
// A CA certificate signed by `parent` (which needs a path length of at least 1), with
// pathlen options.path_length (below the parent's) and AKI = the parent's SKI: an issuing CA
// below a root, as TPP certificates come from a directory's issuing CA.
[[nodiscard]] Result<IssuedCertificate> issue_intermediate_ca(const IssuedCertificate& parent,
                                                              const CaOptions& options);
// serverAuth leaf signed by the CA, SANs from dns_names + ip_addresses (at least one needed;
// an empty common_name defaults to the first of them). A malformed name is InvalidArgument.
[[nodiscard]] Result<IssuedCertificate> issue_server_certificate(const IssuedCertificate& ca,
                                                                 const LeafOptions& options);
// clientAuth leaf signed by the CA; common_name required, SANs optional.
[[nodiscard]] Result<IssuedCertificate> issue_client_certificate(const IssuedCertificate& ca,
                                                                 const LeafOptions& options);
// Loads a CA (certificate + key PEM) back for issuing: the key must be private and match the
// certificate (InvalidKey), and the certificate must be a CA (InvalidCertificate).
[[nodiscard]] Result<IssuedCertificate> load_ca(std::string_view cert_pem,
                                                std::string_view key_pem);

}  // namespace fapigate::crypto
