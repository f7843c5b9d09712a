// The admin listener of a real `fapigate demo`: health, readiness, and a Prometheus scrape that
// moves by exactly one for exactly the request made (curl as the partner and as Prometheus).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/json.hpp"
#include "integration/demo_process.hpp"

namespace fapigate::testing {
namespace {

using Samples = std::map<std::string, double>;

// One sample line of the text format 0.0.4: name{label="value",...} value [timestamp].
const std::regex& sample_line() {
  static const std::regex re(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*))re"
      R"re((\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")re"
      R"re((,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? )re"
      R"re((NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)( -?[0-9]+)?)re");
  return re;
}

class DemoAdmin : public ::testing::Test {
protected:
  static void SetUpTestSuite() { demo_ = new DemoProcess(); }
  static void TearDownTestSuite() {
    delete demo_;
    demo_ = nullptr;
  }

  static std::string admin(const std::string& path) { return demo_->str("admin_url") + path; }
  static std::string https(int offset, const std::string& path) {
    return "https://localhost:" + std::to_string(demo_->port_base() + offset) + path;
  }
  static std::string tls_args(const char* who) {
    return "--cacert " + shell_quote(demo_->str("ca_file")) + " --cert " +
           shell_quote(demo_->partner(who, "cert_file")) + " --key " +
           shell_quote(demo_->partner(who, "key_file")) + " ";
  }

  static std::string partner_token() {
    auto r = curl(tls_args("partner") +
                  "-X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "
                  "'grant_type=client_credentials&client_id=partner-client&scope=payments' " +
                  shell_quote(https(1, "/token")));
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = core::parse_json_object(r.body);
    return o ? std::string(core::get_string(*o, "access_token").value_or("")) : std::string();
  }

  static HttpResult pay(const char* who, const std::string& token) {
    return curl(tls_args(who) + "-X POST -H " + shell_quote("Authorization: Bearer " + token) +
                " -H 'Content-Type: application/json' --data "
                "'{\"instructed_amount\":{\"amount\":\"5.00\",\"currency\":\"EUR\"}}' " +
                shell_quote(https(2, "/domestic-payments")));
  }

  // GET /metrics, checked line by line against the exposition grammar.
  static Samples scrape() {
    auto r = curl(shell_quote(admin("/metrics")));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
        << r.header("Content-Type");
    Samples out;
    std::set<std::string> typed;
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("# TYPE ")) {
        std::istringstream t(line.substr(7));
        std::string name, type;
        t >> name >> type;
        EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
        typed.insert(name);
        continue;
      }
      if (line.starts_with("#")) {
        EXPECT_TRUE(line.starts_with("# HELP ")) << line;
        continue;
      }
      std::smatch m;
      if (!std::regex_match(line, m, sample_line())) {
        ADD_FAILURE() << "not a Prometheus sample line: " << line;
        continue;
      }
      // Every sample belongs to a family declared before it (histograms add suffixes).
      std::string family = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (!typed.count(family) && family.ends_with(suffix)) {
          family.resize(family.size() - std::string_view(suffix).size());
        }
      }
      EXPECT_TRUE(typed.count(family)) << "no # TYPE before " << line;
      auto sp = line.rfind(' ');
      EXPECT_EQ(out.count(line.substr(0, sp)), 0u) << "duplicate series " << line;
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
  }

  static double at(const Samples& s, const std::string& series) {
    auto it = s.find(series);
    EXPECT_NE(it, s.end()) << series << " is not exposed";
    return it == s.end() ? -1 : it->second;
  }
  static std::string requests(const std::string& route, const std::string& outcome) {
    return "fapigate_gateway_requests_total{route=\"" + route + "\",outcome=\"" + outcome + "\"}";
  }

  // /readyz until it says 200 (the gateway's first JWKS fetch runs right after start-up).
  static HttpResult wait_ready() {
    HttpResult r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      r = curl(shell_quote(admin("/readyz")));
      if (r.status == 200) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }

  static DemoProcess* demo_;
};

DemoProcess* DemoAdmin::demo_ = nullptr;

TEST_F(DemoAdmin, AdminUrlIsAnnouncedBesideTheContract) {
  const std::string url = demo_->str("admin_url");
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const int n = demo_->port_base();
  EXPECT_TRUE(port > 0 && (port < n || port > n + 3)) << port;
  EXPECT_EQ(demo_->ready_line().rfind("ready issuer=", 0), 0u) << demo_->ready_line();
  EXPECT_NE(demo_->ready_line().find(" admin=" + url), std::string::npos) << demo_->ready_line();
  EXPECT_EQ(demo_->str("gateway_url"), "https://localhost:" + std::to_string(n + 2));
}

TEST_F(DemoAdmin, HealthAndReadiness) {
  auto health = curl(shell_quote(admin("/healthz")));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(health.header("Cache-Control"), "no-store");

  auto ready = wait_ready();
  ASSERT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, R"({"status":"ready","checks":{"listeners":"ok","gateway_jwks":"ok"}})");
  EXPECT_EQ(
      at(scrape(), "fapigate_gateway_jwks_keys_loaded{issuer=\"" + demo_->str("issuer") + "\"}"),
      1);

  EXPECT_EQ(curl(shell_quote(admin("/nothing"))).status, 404);
  auto post = curl("-X POST " + shell_quote(admin("/metrics")));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET");
}

TEST_F(DemoAdmin, CountersMoveByExactlyOnePerRequest) {
  ASSERT_EQ(wait_ready().status, 200);
  const std::string token = partner_token();
  ASSERT_FALSE(token.empty());

  const auto before = scrape();
  auto ok = pay("partner", token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  const auto mid = scrape();
  EXPECT_EQ(at(mid, requests("payments", "allowed")) - at(before, requests("payments", "allowed")),
            1);
  EXPECT_EQ(at(mid, requests("payments", "cnf_mismatch")),
            at(before, requests("payments", "cnf_mismatch")));

  // The same token with the other partner's certificate (RFC 8705 §3): refused, and counted.
  auto stolen = pay("other_partner", token);
  ASSERT_EQ(stolen.status, 401) << stolen.body;
  const auto after = scrape();
  EXPECT_EQ(at(after, requests("payments", "cnf_mismatch")) -
                at(mid, requests("payments", "cnf_mismatch")),
            1);
  EXPECT_EQ(at(after, requests("payments", "allowed")), at(mid, requests("payments", "allowed")));
  const std::string count = "fapigate_gateway_request_duration_seconds_count{route=\"payments\"}";
  EXPECT_EQ(at(after, count) - at(before, count), 2);
  EXPECT_EQ(at(after, requests("accounts", "allowed")),
            at(before, requests("accounts", "allowed")));
  // The second call verified nothing: the token came from the cache.
  EXPECT_EQ(at(after, "fapigate_gateway_token_cache_hits_total") -
                at(mid, "fapigate_gateway_token_cache_hits_total"),
            1);
  // Server counters: both calls were accepted connections and handled requests.
  EXPECT_GE(at(after, "fapigate_http_requests_total") - at(before, "fapigate_http_requests_total"),
            2);
  EXPECT_GE(at(after, "fapigate_http_connections_active"), 1);  // this scrape's own connection
}

TEST_F(DemoAdmin, TokenEndpointAndHandshakeFailuresAreCounted) {
  const std::string ok =
      "fapigate_as_token_requests_total{grant_type=\"client_credentials\",outcome=\"ok\"}";
  const std::string bad_grant =
      "fapigate_as_token_requests_total{grant_type=\"other\",outcome=\"unsupported_grant_type\"}";
  const auto before = scrape();
  EXPECT_FALSE(partner_token().empty());
  auto refused = curl(tls_args("partner") +
                      "-X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "
                      "'grant_type=urn:made:up&client_id=partner-client' " +
                      shell_quote(https(1, "/token")));
  EXPECT_EQ(refused.status, 400) << refused.body;
  // No client certificate at the gateway: the handshake fails, before any HTTP.
  auto no_cert = curl("--cacert " + shell_quote(demo_->str("ca_file")) + " " +
                      shell_quote(https(2, "/accounts")));
  EXPECT_EQ(no_cert.status, 0);
  const auto after = scrape();
  EXPECT_EQ(at(after, ok) - at(before, ok), 1);
  EXPECT_EQ(at(after, bad_grant) - at(before, bad_grant), 1);
  EXPECT_EQ(at(after, "fapigate_http_tls_handshake_failures_total") -
                at(before, "fapigate_http_tls_handshake_failures_total"),
            1);
}

}  // namespace
}  // namespace fapigate::testing
