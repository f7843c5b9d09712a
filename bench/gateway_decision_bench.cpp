// One whole gateway decision without sockets (STYLE.md §7): GatewayService::handle on a request
// as the session builds it (mTLS peer certificate, Bearer PS256 access token bound to it with
// cnf.x5t#S256), route match, token verification (verified-token cache hit, or a PS256
// verification with the cache off), sender constraint, scope, the upstream request built and
// handed to a fake upstream that answers at once, the client response built. What remains of
// bench/gateway/run's per-request cost beyond this is TLS records, HTTP parsing and I/O.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "config/model.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "gateway/gateway_service.hpp"
#include "http/message.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace {

using namespace fapigate;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://as.example";
constexpr const char* kJwksUri = "https://as.example/jwks";
constexpr const char* kAudience = "https://api.example";
constexpr const char* kUpstream = "http://127.0.0.1:9000";

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::cerr << "gateway_decision_bench: " << what << ": " << r.error().message() << "\n";
    std::abort();
  }
  return std::move(*r);
}

// The issuer's JWKS endpoint. IssuerKeys calls send() with its lock held and expects the answer
// later (the http::Client contract), so answers are queued and delivered by run_all().
class QueuedJwksClient final : public http::Client {
public:
  explicit QueuedJwksClient(std::string jwks) : jwks_(std::move(jwks)) {}
  void send(http::ClientRequest, std::function<void(Result<http::Response>)> done) override {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(done));
  }
  void run_all() {
    for (;;) {
      std::function<void(Result<http::Response>)> done;
      {
        std::lock_guard lock(mu_);
        if (pending_.empty()) {
          return;
        }
        done = std::move(pending_.front());
        pending_.pop_front();
      }
      done(http::Response::json(200, jwks_));
    }
  }

private:
  std::string jwks_;
  std::mutex mu_;
  std::deque<std::function<void(Result<http::Response>)>> pending_;
};

// The upstream (the demo bank API's GET /accounts): answers inside send(), which the gateway's
// forward path allows (it holds no lock there); the request is consumed as a socket would.
class ImmediateUpstream final : public http::Client {
public:
  void send(http::ClientRequest request, std::function<void(Result<http::Response>)> done) override {
    benchmark::DoNotOptimize(request);
    http::Response r = http::Response::json(
        200, R"({"accounts":[{"id":"acc-1","currency":"EUR","balance":"1000.00"}]})");
    r.headers.add("Date", "Tue, 14 Nov 2023 22:13:20 GMT");
    r.headers.add("Connection", "keep-alive");
    done(std::move(r));
  }
};

struct Setup {
  std::shared_ptr<QueuedJwksClient> jwks;
  std::shared_ptr<gw::GatewayService> service;
  http::Request request;  // the session's conversion result, copied per decision
};

// cache_entries 0: every decision verifies the PS256 signature.
Setup make_setup(std::size_t cache_entries) {
  static const core::ManualClock clock(kNow);
  core::log::configure(core::log::Level::Error);  // as bench/gateway/run; refusals would log

  auto key = must(crypto::Key::generate(crypto::KeyType::Rsa), "rsa key");
  jose::Jwks set;
  set.keys.push_back(jose::make_jwk(key.public_only(), "k1", jose::Alg::PS256));

  auto ca = must(crypto::issue_ca({}), "ca");
  crypto::LeafOptions leaf;
  leaf.common_name = "partner-client";
  auto issued = must(crypto::issue_client_certificate(ca, leaf), "client certificate");
  auto cert = must(crypto::parse_certificate_pem(issued.cert_pem), "parse certificate");
  auto peer = std::make_shared<http::PeerCertificate>();
  peer->der = cert.der;
  peer->x5t_s256 = crypto::x5t_s256(cert.der);
  peer->subject_dn = cert.subject_dn;
  peer->issuer_dn = cert.issuer_dn;
  peer->chain_verified = true;
  peer->der_base64 = core::base64_encode(cert.der);  // as the TLS session fills it

  const boost::json::object claims{{"iss", kIssuer},
                                   {"sub", "partner-client"},
                                   {"aud", kAudience},
                                   {"client_id", "partner-client"},
                                   {"iat", kNow},
                                   {"exp", kNow + 3600},
                                   {"jti", "9f4c2c7e-2d7b-4a35-9c1e-3f1f6f4b8a11"},
                                   {"scope", "accounts payments"},
                                   {"cnf", boost::json::object{{"x5t#S256", peer->x5t_s256}}}};
  auto token = must(jose::sign_compact(boost::json::serialize(claims), jose::Alg::PS256, key,
                                       "k1", "at+jwt"),
                    "sign");

  config::Gateway g;
  g.enabled = true;
  g.realm = "fapigate";
  config::Issuer iss;
  iss.issuer = kIssuer;
  iss.jwks_uri = kJwksUri;
  iss.audiences = {kAudience};
  g.issuers = {iss};
  config::Route route;
  route.name = "accounts";
  route.path = "/accounts";
  route.methods = {"GET"};
  route.scopes = {"accounts"};
  route.upstream = kUpstream;
  route.sender_constraint = config::SenderConstraint::Mtls;
  g.routes = {route};
  g.verified_token_cache_entries = cache_entries;

  Setup s;
  s.jwks = std::make_shared<QueuedJwksClient>(jose::to_json_string(set, false));
  gw::GatewayDeps deps;
  deps.issuer_client = [jwks = s.jwks](const config::Issuer&) -> Result<std::shared_ptr<http::Client>> {
    return std::shared_ptr<http::Client>(jwks);
  };
  deps.upstream_client = std::make_shared<ImmediateUpstream>();
  deps.clock = &clock;
  s.service = must(gw::GatewayService::create(g, std::move(deps)), "gateway");
  s.service->warm_up();
  s.jwks->run_all();

  // What wrk sends through the bench's TLS listener, as the session converts it.
  http::Request& r = s.request;
  r.method = "GET";
  r.target = "/accounts";
  r.path = "/accounts";
  r.headers.add("Host", "localhost:8445");
  r.headers.add("Authorization", "Bearer " + token);
  r.remote_address = "127.0.0.1";
  r.local_port = 8445;
  r.tls = true;
  r.sni = "localhost";
  r.peer_certificate = std::move(peer);
  return s;
}

void run_decisions(benchmark::State& state, std::size_t cache_entries) {
  Setup s = make_setup(cache_entries);
  int status = 0;
  for (auto _ : state) {
    s.service->handle(s.request, [&status](http::Response r) { status = r.status; });
    if (status != 200) {
      state.SkipWithError("the gateway refused the request");
      break;
    }
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GatewayDecision_CacheHit(benchmark::State& state) { run_decisions(state, 10000); }
void BM_GatewayDecision_NoCache(benchmark::State& state) { run_decisions(state, 0); }

BENCHMARK(BM_GatewayDecision_CacheHit);
BENCHMARK(BM_GatewayDecision_NoCache);

}  // namespace

BENCHMARK_MAIN();
