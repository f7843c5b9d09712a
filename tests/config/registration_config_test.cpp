// authorization_server.registration (RFC 7591/7592): loading, defaults, and each error naming
// its key (docs/CONFIG.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/loader.hpp"

using namespace fapigate::config;

namespace {

const std::string kDataDir = std::string(FAPIGATE_TEST_DATA_DIR) + "/config";
const std::string kHash = "hQz4fpa3AYpDYSzO_UMqJlixCxWmDZ3NZUcp00cTijs";

const std::string kAs = R"(
authorization_server:
  enabled: true
  issuer: https://as.example.com
  front: {port: 8443, tls: {cert_file: pki/server.pem, key_file: pki/server.key}}
  mtls:
    port: 8444
    tls: {cert_file: pki/server.pem, key_file: pki/server.key, client_ca_file: pki/ca.pem}
  clients:
    - {client_id: partner, tls_client_auth_subject_dn: CN=partner}
)";

LoadResult load(const std::string& registration) {
  return load_string(kAs + "  registration:\n" + registration, "fapigate.yaml", kDataDir);
}

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += "  " + e + "\n";
  }
  return s;
}

bool has(const LoadResult& r, const std::string& msg) {
  return std::find(r.errors.begin(), r.errors.end(), msg) != r.errors.end();
}

TEST(RegistrationConfig, DisabledByDefault) {
  LoadResult r = load_string(kAs, "fapigate.yaml", kDataDir);
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& reg = r.config.authorization_server.registration;
  EXPECT_FALSE(reg.enabled);
  EXPECT_TRUE(reg.software_statement_required);
  EXPECT_EQ(reg.software_statement_max_age, 86400);
}

TEST(RegistrationConfig, FullSampleLoadsWithResolvedPaths) {
  LoadResult r = load_file(kDataDir + "/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& reg = r.config.authorization_server.registration;
  EXPECT_TRUE(reg.enabled);
  EXPECT_EQ(reg.initial_access_tokens, std::vector<std::string>{kHash});
  EXPECT_EQ(reg.initial_access_tokens_file, kDataDir + "/keys/initial-access-tokens");
  EXPECT_EQ(reg.software_statement_jwks_file, kDataDir + "/keys/tpp.jwks.json");
  EXPECT_EQ(reg.software_statement_issuer, "https://directory.example.com");
  EXPECT_EQ(reg.software_statement_max_age, 3600);
}

TEST(RegistrationConfig, OptionalStatementNeedsNoDirectory) {
  LoadResult r = load("    enabled: true\n    initial_access_tokens: [" + kHash +
                      "]\n    software_statement_required: false\n");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(RegistrationConfig, EachErrorNamesItsKey) {
  const std::string p = "fapigate.yaml: authorization_server.registration.";
  LoadResult r = load("    enabled: true\n");
  EXPECT_TRUE(has(r, p + "initial_access_tokens: registration needs at least one initial "
                         "access token (or initial_access_tokens_file)"))
      << all(r);
  EXPECT_TRUE(has(r, p + "software_statement_jwks_file: required while "
                         "software_statement_required is true"))
      << all(r);

  r = load("    enabled: true\n    initial_access_tokens: [the-token-itself]\n"
           "    software_statement_jwks_file: keys/tpp.jwks.json\n"
           "    software_statement_max_age: 5\n");
  EXPECT_TRUE(has(r, p + "initial_access_tokens[0]: must be base64url(SHA-256(token)), 43 "
                         "characters, not the token itself"))
      << all(r);
  EXPECT_TRUE(has(r, p + "software_statement_issuer: required with "
                         "software_statement_jwks_file (the directory's iss)"))
      << all(r);
  EXPECT_TRUE(has(r, p + "software_statement_max_age: must be between 60 and 31622400 seconds"))
      << all(r);

  r = load("    enabled: true\n    initial_access_tokens_file: no/such/file\n"
           "    software_statement_required: false\n");
  EXPECT_EQ(r.errors.size(), 1u) << all(r);

  r = load("    enabled: true\n    initial_acess_tokens: [x]\n");
  EXPECT_FALSE(r.ok());
}

}  // namespace
