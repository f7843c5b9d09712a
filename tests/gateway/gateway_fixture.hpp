// Shared fixture for the gateway tests: signing keys for two issuers (PS256, ES256, EdDSA) and a
// test PKI made once per suite, a FakeClient standing in for both the issuers' JWKS endpoints
// and the upstream, a ManualClock, and token minting with jose::sign_compact or by hand (for
// the forgeries sign_compact refuses to make).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "config/model.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/signature.hpp"
#include "crypto/x509.hpp"
#include "gateway/gateway_service.hpp"
#include "gateway/gw_errc.hpp"
#include "http/message.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "support/fake_client.hpp"

namespace fapigate::gw::test {

inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr const char* kIssA = "https://as-a.example";
inline constexpr const char* kIssB = "https://as-b.example";
inline constexpr const char* kJwksA = "https://as-a.example/jwks";
inline constexpr const char* kJwksB = "https://as-b.example/jwks";
inline constexpr const char* kAud = "https://api.example";
inline constexpr const char* kUpstream = "http://bank.internal:9000";
inline constexpr const char* kRealm = "fapigate";

// A file in the temp directory, named per process (key files given to GatewayService::create).
inline std::string temp_file(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() /
           ("fapigate-gw-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p.string();
}

struct SigningKey {
  crypto::Key key;
  std::string kid;
  jose::Alg alg;
};

struct SuiteData {
  SigningKey a_rsa, a_ec, a_ed, a_ec_rotated;  // issuer A
  SigningKey b_ec, b_same_kid;                 // issuer B; b_same_kid reuses A's kid "a-ec"
  crypto::IssuedCertificate ca, cert1, cert2;
};

inline std::shared_ptr<const http::PeerCertificate> peer_of(const crypto::IssuedCertificate& c) {
  auto cert = crypto::parse_certificate_pem(c.cert_pem);
  if (!cert) {
    ADD_FAILURE() << "parse_certificate_pem: " << cert.error().message();
    return nullptr;
  }
  auto p = std::make_shared<http::PeerCertificate>();
  p->der = cert->der;
  p->x5t_s256 = crypto::x5t_s256(cert->der);
  p->subject_dn = cert->subject_dn;
  p->issuer_dn = cert->issuer_dn;
  p->san_dns = cert->san_dns;
  p->not_before = cert->not_before;
  p->not_after = cert->not_after;
  p->chain_verified = true;  // as the TLS layer reports a CA-issued certificate
  return p;
}

inline std::string jwks_json(const std::vector<const SigningKey*>& keys) {
  jose::Jwks set;
  for (const auto* k : keys) {
    set.keys.push_back(jose::make_jwk(k->key.public_only(), k->kid, k->alg));
  }
  return jose::to_json_string(set, false);
}

inline std::string b64(std::string_view s) { return core::base64url_encode(s); }

// header.payload.signature from raw parts: for tokens sign_compact will not produce.
inline std::string raw_jws(const std::string& header_json, const std::string& payload_json,
                           const std::string& signature) {
  return b64(header_json) + "." + b64(payload_json) + "." + b64(signature);
}

inline std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// The exact RFC 6750 §3 challenge the gateway must send for `error`/`description`.
inline std::string challenge(std::string_view error = {}, std::string_view description = {}) {
  std::string c = std::string("Bearer realm=\"") + kRealm + "\"";
  if (!error.empty()) {
    c += ", error=\"" + std::string(error) + "\", error_description=\"" +
         std::string(description) + "\"";
  }
  return c;
}
inline std::string invalid_token(std::string_view description) {
  return challenge("invalid_token", description);
}

class GatewayTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    core::log::configure(core::log::Level::Off);
    if (data_) {
      return;
    }
    auto d = std::make_unique<SuiteData>();
    auto gen = [](crypto::KeyType type, std::string kid, jose::Alg alg) {
      auto k = crypto::Key::generate(type);
      EXPECT_TRUE(k) << k.error().message();
      return SigningKey{k ? *k : crypto::Key{}, std::move(kid), alg};
    };
    d->a_rsa = gen(crypto::KeyType::Rsa, "a-rsa", jose::Alg::PS256);
    d->a_ec = gen(crypto::KeyType::Ec, "a-ec", jose::Alg::ES256);
    d->a_ed = gen(crypto::KeyType::Ed25519, "a-ed", jose::Alg::EdDSA);
    d->a_ec_rotated = gen(crypto::KeyType::Ec, "a-ec-2", jose::Alg::ES256);
    d->b_ec = gen(crypto::KeyType::Ec, "b-ec", jose::Alg::ES256);
    d->b_same_kid = gen(crypto::KeyType::Ec, "a-ec", jose::Alg::ES256);
    auto ca = crypto::issue_ca({});
    ASSERT_TRUE(ca);
    d->ca = *ca;
    crypto::LeafOptions o;
    o.common_name = "partner-client";
    auto c1 = crypto::issue_client_certificate(d->ca, o);
    o.common_name = "other-partner";
    auto c2 = crypto::issue_client_certificate(d->ca, o);
    ASSERT_TRUE(c1 && c2);
    d->cert1 = *c1;
    d->cert2 = *c2;
    data_ = d.release();
  }

  void SetUp() override {
    ASSERT_NE(data_, nullptr);
    cert1_ = peer_of(data_->cert1);
    cert2_ = peer_of(data_->cert2);
    fake_ = std::make_shared<test_support_client>();
    fake_->respond_json(kJwksA, 200, jwks_a());
    fake_->respond_json(kJwksB, 200, jwks_b());
    http::Response up = http::Response::json(201, R"({"paymentId":"p-1"})");
    up.headers.add("Connection", "close");
    up.headers.add("Transfer-Encoding", "chunked");
    up.headers.add("Keep-Alive", "timeout=5");
    up.headers.add("Content-Length", "999");
    up.headers.add("x-fapi-interaction-id", "upstream-chosen-id");
    up.headers.add("X-Upstream", "bank");
    fake_->respond(kUpstream, up);
  }

  static std::string jwks_a() {
    return jwks_json({&data_->a_rsa, &data_->a_ec, &data_->a_ed});
  }
  static std::string jwks_b() { return jwks_json({&data_->b_ec, &data_->b_same_kid}); }

  static config::Issuer issuer(std::string iss, std::string jwks) {
    config::Issuer i;
    i.issuer = std::move(iss);
    i.jwks_uri = std::move(jwks);
    i.audiences = {kAud};
    i.jwks_refetch_min_interval = 30;
    i.jwks_max_age = 300;
    i.clock_skew = 10;
    return i;
  }

  static config::Route route(std::string name, std::string path, std::vector<std::string> methods,
                             std::vector<std::string> scopes,
                             config::SenderConstraint sc = config::SenderConstraint::Mtls) {
    config::Route r;
    r.name = std::move(name);
    r.path = std::move(path);
    r.methods = std::move(methods);
    r.scopes = std::move(scopes);
    r.upstream = kUpstream;
    r.sender_constraint = sc;
    return r;
  }

  static config::Gateway default_settings() {
    config::Gateway g;
    g.enabled = true;
    g.realm = kRealm;
    g.issuers = {issuer(kIssA, kJwksA), issuer(kIssB, kJwksB)};
    g.routes.push_back(route("payments", "/domestic-payments", {"POST"}, {"payments"}));
    auto accounts = route("accounts", "/accounts*", {"GET"}, {"accounts"});
    accounts.upstream = std::string(kUpstream) + "/";  // trailing slash is not doubled
    g.routes.push_back(accounts);
    g.routes.push_back(route("open", "/open/*", {"GET"}, {}, config::SenderConstraint::None));
    auto b_only = route("b-only", "/b-only", {"GET"}, {});
    b_only.issuers = {kIssB};
    g.routes.push_back(b_only);
    g.routes.push_back(route("both-scopes", "/both", {}, {"accounts", "payments"}));
    g.verified_token_cache_entries = 64;
    g.upstream_timeout_ms = 2500;
    return g;
  }

  // How far the start-up JWKS warm-up gets: not started, started but still in flight, or done.
  enum class Warm { None, InFlight, Done };

  // Creates the gateway and runs its warm-up as the composition root does.
  void start(const config::Gateway& settings, Warm warm = Warm::Done) {
    GatewayDeps deps;
    auto fake = fake_;
    deps.issuer_client =
        [fake](const config::Issuer&) -> Result<std::shared_ptr<http::Client>> { return fake; };
    deps.upstream_client = fake_;
    deps.clock = &clock_;
    auto svc = GatewayService::create(settings, std::move(deps));
    ASSERT_TRUE(svc) << svc.error().message();
    service_ = *svc;
    if (warm != Warm::None) {
      service_->warm_up();
    }
    if (warm == Warm::Done) {
      fake_->run_all();
    }
  }
  void start() { start(default_settings()); }

  // Starts a request; the response lands in the returned slot once the fake is run.
  struct Slot {
    int calls = 0;
    http::Response response;
  };
  std::shared_ptr<Slot> begin(http::Request req) {
    auto slot = std::make_shared<Slot>();
    service_->handle(std::move(req), [slot](http::Response r) {
      ++slot->calls;
      slot->response = std::move(r);
    });
    return slot;
  }
  // Runs the request to completion and checks the Responder ran exactly once.
  http::Response call(http::Request req) {
    auto slot = begin(std::move(req));
    fake_->run_all();
    EXPECT_EQ(slot->calls, 1);
    return slot->response;
  }

  static http::Request request(std::string method, std::string target, const std::string& token,
                               std::shared_ptr<const http::PeerCertificate> cert) {
    http::Request r;
    r.method = std::move(method);
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
    r.headers.add("Host", "api.example");
    if (!token.empty()) {
      r.headers.add("Authorization", "Bearer " + token);
    }
    r.remote_address = "203.0.113.7";
    r.tls = true;
    r.peer_certificate = std::move(cert);
    return r;
  }
  http::Request pay(const std::string& token) {
    auto r = request("POST", "/domestic-payments", token, cert1_);
    r.headers.add("Content-Type", "application/json");
    r.body = R"({"amount":"10.00"})";
    return r;
  }

  // Claims of a good access token for issuer A, bound to cert1, valid from now for 300 s.
  boost::json::object claims(const std::string& iss = kIssA) const {
    return boost::json::object{{"iss", iss},
                               {"sub", "partner-client"},
                               {"aud", kAud},
                               {"client_id", "partner-client"},
                               {"iat", clock_.now()},
                               {"exp", clock_.now() + 300},
                               {"jti", crypto::random_token(8)},
                               {"scope", "accounts payments"},
                               {"cnf", boost::json::object{{"x5t#S256", cert1_->x5t_s256}}}};
  }
  static std::string sign(const boost::json::object& c, const SigningKey& k,
                          std::string_view typ = "at+jwt") {
    auto t = jose::sign_compact(boost::json::serialize(c), k.alg, k.key, k.kid, typ);
    EXPECT_TRUE(t) << t.error().message();
    return t ? *t : std::string();
  }
  std::string good_token() const { return sign(claims(), data_->a_ec); }

  static void expect_refused(const http::Response& r, int status, const std::string& www) {
    EXPECT_EQ(r.status, status) << r.body;
    if (www.empty()) {
      EXPECT_EQ(r.headers.count("WWW-Authenticate"), 0u) << r.headers.get("WWW-Authenticate").value_or("");
    } else {
      EXPECT_EQ(r.headers.count("WWW-Authenticate"), 1u);
      EXPECT_EQ(r.headers.get("WWW-Authenticate").value_or("<none>"), www);
    }
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
    EXPECT_EQ(r.headers.count("x-fapi-interaction-id"), 1u);
    auto body = core::parse_json_object(r.body);
    EXPECT_TRUE(body) << r.body;
  }
  static std::string error_of(const http::Response& r) {
    auto body = core::parse_json_object(r.body);
    return body ? std::string(core::get_string(*body, "error").value_or("")) : std::string();
  }

  using test_support_client = fapigate::test::FakeClient;

  static inline SuiteData* data_ = nullptr;
  core::ManualClock clock_{kNow};
  std::shared_ptr<test_support_client> fake_;
  std::shared_ptr<GatewayService> service_;
  std::shared_ptr<const http::PeerCertificate> cert1_, cert2_;
};

}  // namespace fapigate::gw::test
