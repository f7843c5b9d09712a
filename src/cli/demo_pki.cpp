#include "cli/demo_pki.hpp"

#include <filesystem>

#include "cli/files.hpp"
#include "core/log.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"

namespace fapigate::cli {
namespace {

ErrorCode io_error() { return make_error_code(boost::system::errc::io_error); }

Result<void> write_pair(const std::string& cert_path, const std::string& key_path,
                        const crypto::IssuedCertificate& issued) {
  if (!write_file(key_path, issued.key_pem, true) || !write_file(cert_path, issued.cert_pem)) {
    return io_error();
  }
  return {};
}

Result<std::string> subject_of(const std::string& cert_path) {
  auto pem = read_file(cert_path);
  if (!pem) {
    return io_error();
  }
  auto cert = crypto::parse_certificate_pem(*pem);
  if (!cert) {
    return cert.error();
  }
  return cert->subject_dn;
}

}  // namespace

Result<DemoPki> ensure_pki(const std::string& dir_in) {
  const std::string dir = absolute_path(dir_in) + "/pki";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return io_error();
  }
  DemoPki p;
  p.ca_cert = dir + "/ca.pem";
  p.ca_key = dir + "/ca.key";
  p.server_cert = dir + "/server.pem";
  p.server_key = dir + "/server.key";
  p.partner_cert = dir + "/partner.pem";
  p.partner_key = dir + "/partner.key";
  p.other_partner_cert = dir + "/other-partner.pem";
  p.other_partner_key = dir + "/other-partner.key";

  crypto::IssuedCertificate ca;
  if (file_exists(p.ca_cert) && file_exists(p.ca_key)) {
    auto cert = read_file(p.ca_cert);
    auto key = read_file(p.ca_key);
    if (!cert || !key) {
      return io_error();
    }
    auto loaded = crypto::load_ca(*cert, *key);
    if (!loaded) {
      return loaded.error();
    }
    ca = std::move(*loaded);
  } else {
    auto issued = crypto::issue_ca(crypto::CaOptions{});
    if (!issued) {
      return issued.error();
    }
    ca = std::move(*issued);
    if (auto w = write_pair(p.ca_cert, p.ca_key, ca); !w) {
      return w.error();
    }
    core::log::info("demo_ca_created", {{"file", p.ca_cert}});
  }

  if (!file_exists(p.server_cert) || !file_exists(p.server_key)) {
    crypto::LeafOptions o;
    o.common_name = "localhost";
    o.dns_names = {"localhost"};
    o.ip_addresses = {"127.0.0.1", "::1"};
    // FAPI 1.0 Part 2 §8.5's TLS 1.2 suites are all ECDHE-RSA / DHE-RSA: the server key is RSA.
    o.key_type = crypto::KeyType::Rsa;
    auto issued = crypto::issue_server_certificate(ca, o);
    if (!issued) {
      return issued.error();
    }
    if (auto w = write_pair(p.server_cert, p.server_key, *issued); !w) {
      return w.error();
    }
  }

  struct Partner {
    const char* cn;
    const char* org;
    const std::string* cert;
    const std::string* key;
  };
  for (const Partner& partner : {Partner{"partner-client", "Partner Payments Ltd", &p.partner_cert, &p.partner_key},
                                 Partner{"other-partner", "Other Fintech GmbH", &p.other_partner_cert,
                                         &p.other_partner_key}}) {
    if (file_exists(*partner.cert) && file_exists(*partner.key)) {
      continue;
    }
    crypto::LeafOptions o;
    o.common_name = partner.cn;
    o.organization = partner.org;
    o.organizational_unit = "TPP";
    auto issued = crypto::issue_client_certificate(ca, o);
    if (!issued) {
      return issued.error();
    }
    if (auto w = write_pair(*partner.cert, *partner.key, *issued); !w) {
      return w.error();
    }
  }

  auto s1 = subject_of(p.partner_cert);
  auto s2 = subject_of(p.other_partner_cert);
  if (!s1 || !s2) {
    return s1 ? s2.error() : s1.error();
  }
  p.partner_subject_dn = *s1;
  p.other_partner_subject_dn = *s2;
  return p;
}

Result<std::string> ensure_gateway_test_key(const std::string& dir_in) {
  const std::string dir = absolute_path(dir_in) + "/keys";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/gateway-test-key.jwk.json";
  if (file_exists(path)) {
    auto text = read_file(path);
    if (text && jose::parse_jwk(*text)) {
      return path;
    }
  }
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  if (!key) {
    return key.error();
  }
  auto jwk = jose::make_jwk(*key, "", jose::Alg::ES256);
  jwk.kid = "gateway-test-" + jose::thumbprint(jwk).substr(0, 16);
  if (!write_file(path, jose::to_json_string(jwk, true), true)) {
    return io_error();
  }
  return path;
}

}  // namespace fapigate::cli
