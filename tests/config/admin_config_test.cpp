// The `admin` section: defaults, loopback-only plain HTTP unless told otherwise, unknown keys.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.hpp"

using namespace fapigate::config;

namespace {

LoadResult load(const std::string& admin) {
  return load_string(
      "demo_api:\n  enabled: true\n  listener: {address: 127.0.0.1, port: 18446}\n" + admin,
      "admin.yaml");
}

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += e + "\n";
  }
  return s;
}

TEST(AdminConfig, OffByDefaultAndLoopbackWhenEnabled) {
  auto off = load("");
  ASSERT_TRUE(off.ok()) << all(off);
  EXPECT_FALSE(off.config.admin.enabled);

  auto on = load("admin: {enabled: true}\n");
  ASSERT_TRUE(on.ok()) << all(on);
  EXPECT_TRUE(on.config.admin.enabled);
  EXPECT_EQ(on.config.admin.listener.address, "127.0.0.1");
  EXPECT_EQ(on.config.admin.listener.port, 9464);
  EXPECT_FALSE(on.config.admin.listener.tls);
  EXPECT_FALSE(on.config.admin.allow_plaintext_remote);
}

TEST(AdminConfig, TheFullExampleSetsEveryKey) {
  auto r = load_file(std::string(FAPIGATE_TEST_DATA_DIR) + "/config/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config.admin.enabled);
  EXPECT_EQ(r.config.admin.listener.address, "127.0.0.1");
  EXPECT_EQ(r.config.admin.listener.port, 9464);
  EXPECT_FALSE(r.config.admin.allow_plaintext_remote);
}

TEST(AdminConfig, PlainHttpOnANonLoopbackAddressIsRefused) {
  auto r = load("admin:\n  enabled: true\n  listener: {address: 0.0.0.0, port: 9100}\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_NE(r.errors[0].find("admin.yaml: admin.listener.address: '0.0.0.0' is not a loopback"),
            std::string::npos)
      << r.errors[0];
  EXPECT_NE(r.errors[0].find("allow_plaintext_remote"), std::string::npos) << r.errors[0];
}

TEST(AdminConfig, NonLoopbackIsAllowedWhenSaidSoExplicitly) {
  auto r = load(
      "admin:\n  enabled: true\n  allow_plaintext_remote: true\n"
      "  listener: {address: 10.0.0.5, port: 9100}\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config.admin.allow_plaintext_remote);
  EXPECT_EQ(r.config.admin.listener.address, "10.0.0.5");
}

TEST(AdminConfig, OtherLoopbackSpellingsAreAccepted) {
  for (const char* a : {"127.0.0.2", "::1", "localhost"}) {
    auto r = load("admin:\n  enabled: true\n  listener: {address: \"" + std::string(a) +
                  "\", port: 9100}\n");
    EXPECT_TRUE(r.ok()) << a << ": " << all(r);
  }
}

TEST(AdminConfig, DisabledAdminIsNotChecked) {
  auto r = load("admin:\n  enabled: false\n  listener: {address: 0.0.0.0}\n");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(AdminConfig, UnknownKeyAndPortClashAreErrors) {
  auto typo = load("admin:\n  enabled: true\n  listner: {port: 1}\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(all(typo).find("admin.listner"), std::string::npos) << all(typo);

  auto clash = load("admin:\n  enabled: true\n  listener: {port: 18446}\n");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(all(clash).find("admin.listener: address 127.0.0.1:18446 is already used by "
                            "demo_api.listener"),
            std::string::npos)
      << all(clash);
}

}  // namespace
