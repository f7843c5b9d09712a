// A throw-away PKI for tests (STYLE.md §7: generated in-process, so nothing can expire): a CA,
// a server certificate for localhost / 127.0.0.1 / ::1, and two client certificates
// ("partner-client", "other-partner"), written as PEM files into a directory.
// Not thread-safe to create concurrently; the returned object is read-only afterwards.
#pragma once

#include <filesystem>
#include <string>

#include "core/result.hpp"
#include "crypto/pki.hpp"

namespace fapigate::test {

struct TestPki {
  std::filesystem::path dir;
  crypto::IssuedCertificate ca;
  crypto::IssuedCertificate server;        // CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1
  crypto::IssuedCertificate client;        // CN=partner-client,O=fapigate
  crypto::IssuedCertificate other_client;  // CN=other-partner,O=fapigate
  // Absolute paths of the PEM files in dir.
  std::string ca_cert_file, ca_key_file;
  std::string server_cert_file, server_key_file;
  std::string client_cert_file, client_key_file;
  std::string other_client_cert_file, other_client_key_file;
};

// Issues everything and writes ca.pem ca.key server.pem server.key client.pem client.key
// other-client.pem other-client.key into dir (created if missing; key files mode 0600).
[[nodiscard]] Result<TestPki> make_test_pki(const std::filesystem::path& dir);

// One PKI per test process in a fresh temporary directory that is removed at exit. Aborts
// the process if issuing fails (a broken test environment, not a test result).
const TestPki& shared_test_pki();

}  // namespace fapigate::test
