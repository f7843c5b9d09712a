#include "support/test_pki.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "crypto/key.hpp"

namespace fapigate::test {

namespace {

bool write_file(const std::filesystem::path& path, const std::string& content, bool secret) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !(out << content)) {
      return false;
    }
  }
  std::error_code ec;
  if (secret) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
  }
  return !ec;
}

crypto::LeafOptions client_options(std::string cn) {
  crypto::LeafOptions o;
  o.common_name = std::move(cn);
  return o;
}

class TempPkiDir {
public:
  TempPkiDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "fapigate-test-pki-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempPkiDir() {
    std::error_code ec;
    if (!path_.empty()) {
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

}  // namespace

Result<TestPki> make_test_pki(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return ec;
  }
  TestPki pki;
  pki.dir = std::filesystem::absolute(dir, ec);
  if (ec) {
    return ec;
  }
  auto ca = crypto::issue_ca({});
  if (!ca) {
    return ca.error();
  }
  pki.ca = std::move(*ca);

  crypto::LeafOptions server;
  server.common_name = "localhost";
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1", "::1"};
  auto server_cert = crypto::issue_server_certificate(pki.ca, server);
  if (!server_cert) {
    return server_cert.error();
  }
  pki.server = std::move(*server_cert);

  auto client = crypto::issue_client_certificate(pki.ca, client_options("partner-client"));
  if (!client) {
    return client.error();
  }
  pki.client = std::move(*client);
  auto other = crypto::issue_client_certificate(pki.ca, client_options("other-partner"));
  if (!other) {
    return other.error();
  }
  pki.other_client = std::move(*other);

  struct Out {
    const crypto::IssuedCertificate& cert;
    const char* stem;
    std::string* cert_file;
    std::string* key_file;
  };
  const Out outs[] = {
      {pki.ca, "ca", &pki.ca_cert_file, &pki.ca_key_file},
      {pki.server, "server", &pki.server_cert_file, &pki.server_key_file},
      {pki.client, "client", &pki.client_cert_file, &pki.client_key_file},
      {pki.other_client, "other-client", &pki.other_client_cert_file,
       &pki.other_client_key_file},
  };
  for (const Out& o : outs) {
    std::filesystem::path cert_path = pki.dir / (std::string(o.stem) + ".pem");
    std::filesystem::path key_path = pki.dir / (std::string(o.stem) + ".key");
    if (!write_file(cert_path, o.cert.cert_pem, false) ||
        !write_file(key_path, o.cert.key_pem, true)) {
      return crypto::CryptoErrc::Internal;
    }
    *o.cert_file = cert_path.string();
    *o.key_file = key_path.string();
  }
  return pki;
}

const TestPki& shared_test_pki() {
  static const TempPkiDir dir;
  static const TestPki pki = [] {
    auto r = make_test_pki(dir.path());
    if (!r) {
      std::fprintf(stderr, "shared_test_pki: %s\n", r.error().message().c_str());
      std::abort();
    }
    return std::move(*r);
  }();
  return pki;
}

}  // namespace fapigate::test
