// authorization_server.access_token_format and resources[]: loading, the defaults, and every
// error naming its key (docs/CONFIG.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "config/loader.hpp"

using namespace fapigate::config;

namespace {

const std::string kDataDir = std::string(FAPIGATE_TEST_DATA_DIR) + "/config";

// A valid enabled AS; tests append keys under authorization_server.
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
    - {client_id: gateway, tls_client_auth_subject_dn: CN=gateway}
)";

LoadResult load(const std::string& extra,
                const std::string& audiences = "[https://api.example.com]") {
  return load_string(kAs + "  access_token_audiences: " + audiences + "\n" + extra,
                     "fapigate.yaml", kDataDir);
}

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += "  " + e + "\n";
  }
  return s;
}

#define EXPECT_ONLY_ERROR(r, msg)                                                        \
  do {                                                                                   \
    EXPECT_EQ((r).errors.size(), 1u) << all(r);                                          \
    EXPECT_TRUE(std::find((r).errors.begin(), (r).errors.end(), std::string(msg)) !=     \
                (r).errors.end())                                                        \
        << "want: " << (msg) << "\ngot:\n"                                               \
        << all(r);                                                                       \
  } while (0)

TEST(ResourcesConfig, DefaultsAreJwtAndNoResources) {
  LoadResult r = load("");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.authorization_server.access_token_format, AccessTokenFormat::Jwt);
  EXPECT_TRUE(r.config.authorization_server.resources.empty());
}

TEST(ResourcesConfig, FullSampleLoadsResources) {
  LoadResult r = load_file(kDataDir + "/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& as = r.config.authorization_server;
  EXPECT_EQ(as.access_token_format, AccessTokenFormat::Jwt);
  ASSERT_EQ(as.resources.size(), 2u);
  EXPECT_EQ(as.resources[0].audience, "https://api.example.com");
  EXPECT_FALSE(as.resources[0].access_token_format.has_value());
  EXPECT_EQ(as.resources[0].introspection_clients, std::vector<std::string>{"san-client"});
  EXPECT_EQ(as.resources[1].audience, "https://ledger.example.com");
  EXPECT_EQ(as.resources[1].access_token_format, AccessTokenFormat::Opaque);
  EXPECT_EQ(as.resources[1].introspection_clients,
            (std::vector<std::string>{"san-client", "partner-client"}));
}

TEST(ResourcesConfig, OpaqueEverywhere) {
  LoadResult r = load("  access_token_format: opaque\n"
                      "  resources:\n"
                      "    - {audience: https://api.example.com, introspection_clients: [gateway]}\n");
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& as = r.config.authorization_server;
  EXPECT_EQ(as.access_token_format, AccessTokenFormat::Opaque);
  EXPECT_EQ(access_token_format_for(as, as.access_token_audiences), AccessTokenFormat::Opaque);
}

TEST(ResourcesConfig, BadFormatValues) {
  LoadResult top = load("  access_token_format: reference\n");
  EXPECT_ONLY_ERROR(top, "fapigate.yaml: authorization_server.access_token_format: invalid value "
                         "'reference'; must be one of: jwt, opaque");
  LoadResult per = load("  resources:\n    - {audience: x, access_token_format: JWT}\n");
  EXPECT_ONLY_ERROR(per, "fapigate.yaml: authorization_server.resources[0].access_token_format: "
                         "invalid value 'JWT'; must be one of: jwt, opaque");
  LoadResult list = load("  access_token_format: [jwt]\n");
  EXPECT_ONLY_ERROR(list, "fapigate.yaml: authorization_server.access_token_format: expected a "
                          "string, got a list");
}

TEST(ResourcesConfig, AudienceIsRequired) {
  LoadResult r = load("  resources:\n    - {access_token_format: opaque}\n");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: authorization_server.resources[0].audience: required key "
                       "is missing");
}

TEST(ResourcesConfig, DuplicateAudience) {
  LoadResult r = load("  resources:\n    - {audience: https://a}\n    - {audience: https://a}\n");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: authorization_server.resources[1].audience: duplicate "
                       "audience 'https://a'");
}

TEST(ResourcesConfig, IntrospectionClientMustBeAConfiguredClient) {
  LoadResult r = load("  resources:\n"
                      "    - {audience: https://a, introspection_clients: [gateway, gatewy]}\n");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: authorization_server.resources[0].introspection_clients[1]: "
                       "unknown client_id 'gatewy'; must be one of authorization_server.clients");
}

TEST(ResourcesConfig, UnknownKeyInAResource) {
  LoadResult r = load("  resources:\n    - {audience: https://a, format: opaque}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(all(r).find("fapigate.yaml: authorization_server.resources[0].format: unknown key"),
            std::string::npos)
      << all(r);
}

TEST(ResourcesConfig, ResourcesMustBeAListOfMappings) {
  LoadResult r = load("  resources: https://a\n");
  EXPECT_FALSE(r.ok());
  LoadResult item = load("  resources: [https://a]\n");
  EXPECT_ONLY_ERROR(item, "fapigate.yaml: authorization_server.resources[0]: expected a mapping, "
                          "got a scalar");
}

TEST(ResourcesConfig, DefaultAudiencesWithDifferentFormatsAreRefused) {
  LoadResult r = load("  resources:\n"
                      "    - {audience: https://ledger, access_token_format: opaque}\n",
                      "[https://api.example.com, https://ledger]");
  EXPECT_ONLY_ERROR(r, "fapigate.yaml: authorization_server.access_token_audiences: the "
                       "audiences' resources have different access_token_format; one token "
                       "cannot serve both");
}

TEST(ResourcesConfig, DefaultAudiencesWithTheSameFormatAreFine) {
  LoadResult r = load("  resources:\n"
                      "    - {audience: https://ledger, access_token_format: opaque}\n"
                      "    - {audience: https://api.example.com, access_token_format: opaque}\n",
                      "[https://api.example.com, https://ledger]");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(ResourcesConfig, DisabledAsIsNotValidated) {
  LoadResult r = load_string("authorization_server:\n  resources:\n    - {audience: ''}\n",
                             "fapigate.yaml", kDataDir);
  EXPECT_TRUE(r.ok()) << all(r);
}

}  // namespace
