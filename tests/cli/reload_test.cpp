// cli/reload: which changes need a restart, and the handler slot that lets a request finish on
// the handler it started on while a new one is published.
#include "cli/reload.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace fapigate::cli {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

config::Config base() {
  config::Config c;
  c.gateway.enabled = true;
  c.gateway.listener.port = 8445;
  c.gateway.listener.tls = config::Tls{"a.pem", "a.key", "ca.pem", config::ClientCertMode::Required};
  c.passthrough.enabled = true;
  c.passthrough.listener.port = 443;
  return c;
}

TEST(ReloadChanges, NothingChangedNeedsNoRestart) {
  EXPECT_TRUE(restart_only_changes(base(), base()).empty());
}

TEST(ReloadChanges, CertificatesRoutesAndLogLevelAreAppliedInPlace) {
  auto next = base();
  next.gateway.listener.tls->cert_file = "b.pem";
  next.gateway.listener.tls->client_cert = config::ClientCertMode::Optional;
  next.gateway.routes.push_back({});
  next.passthrough.default_backend = "x:1";
  next.log.level = "debug";
  EXPECT_TRUE(restart_only_changes(base(), next).empty());
}

TEST(ReloadChanges, ListenersThreadsLimitsStoreAndRolesNeedARestart) {
  auto next = base();
  next.threads = 7;
  next.limits.max_body_bytes += 1;
  next.store.sqlite_path = "other.db";
  next.pid_file = "x.pid";
  next.log.format = "text";
  next.gateway.listener.port = 9445;
  next.gateway.listener.address = "0.0.0.0";
  next.passthrough.listener.port = 8443;
  next.demo_api.enabled = true;
  const auto r = restart_only_changes(base(), next);
  for (const char* key : {"threads", "limits", "store.sqlite_path", "pid_file", "log.format",
                          "gateway.listener.port", "gateway.listener.address",
                          "passthrough.listener.port", "demo_api.enabled"}) {
    EXPECT_TRUE(has(r, key)) << key;
  }
  EXPECT_EQ(r.size(), 9u);
}

TEST(ReloadChanges, UpstreamIdlePoolNeedsARestart) {
  auto next = base();
  next.gateway.upstream_max_idle_connections = 3;
  const auto r = restart_only_changes(base(), next);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.front(), "gateway.upstream_max_idle_connections");
}

TEST(ReloadChanges, TlsSwitchedOffNeedsARestart) {
  auto next = base();
  next.gateway.listener.tls.reset();
  EXPECT_TRUE(has(restart_only_changes(base(), next), "gateway.listener.tls"));
}

TEST(ReloadChanges, RoleSwitchedOnIsOneEntry) {
  auto next = base();
  next.authorization_server.enabled = true;
  const auto r = restart_only_changes(base(), next);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "authorization_server.enabled");
}

class Named : public http::Handler {
public:
  explicit Named(std::string name) : name_(std::move(name)) {}
  void handle(http::Request, http::Responder respond) override {
    if (hold_) {
      held_ = std::move(respond);
      return;
    }
    respond(http::Response::text(200, name_));
  }
  bool hold_ = false;
  http::Responder held_;

private:
  std::string name_;
};

TEST(HandlerSlot, NewRequestsGoToTheNewHandlerAndOldOnesFinishOnTheOld) {
  auto one = std::make_shared<Named>("one");
  one->hold_ = true;
  HandlerSlot slot(one);
  std::string first;
  slot.handle({}, [&](http::Response r) { first = r.body; });

  auto previous = slot.swap(std::make_shared<Named>("two"));
  EXPECT_EQ(previous.get(), one.get());
  std::weak_ptr<Named> weak_one = one;
  one.reset();
  previous.reset();
  // The held responder keeps the old handler alive.
  ASSERT_FALSE(weak_one.expired());

  std::string second;
  slot.handle({}, [&](http::Response r) { second = r.body; });
  EXPECT_EQ(second, "two");

  auto held = std::move(weak_one.lock()->held_);
  held(http::Response::text(200, "one-late"));
  EXPECT_EQ(first, "one-late");
  held = nullptr;
  EXPECT_TRUE(weak_one.expired()) << "released with its last request";
}

}  // namespace
}  // namespace fapigate::cli
