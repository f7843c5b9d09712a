// Shared fixture for the AS tests: a test PKI and a PS256 signing key made once per suite, a
// temporary SQLite file and a ManualClock per test, and requests built by hand (no sockets)
// with the PeerCertificate the TLS layer would attach.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "as/as_service.hpp"
#include "config/model.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "http/message.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace fapigate::as::test {

inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr const char* kIssuer = "https://as.example";
inline constexpr const char* kMtlsBase = "https://mtls.as.example";
inline constexpr const char* kApiAudience = "https://api.example";

struct SuitePki {
  crypto::IssuedCertificate ca;
  crypto::IssuedCertificate partner;  // CN=partner-client,O=fapigate
  crypto::IssuedCertificate other;    // CN=other-partner,O=fapigate
  crypto::IssuedCertificate san;      // CN=san-client,O=fapigate, DNS partner.example.com
  crypto::Key rsa_signing_key;        // pre-seeded PS256 key (RSA keygen is slow under ASan)
  std::string rsa_kid;
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
  p->san_uri = cert->san_uri;
  p->san_ip = cert->san_ip;
  p->san_email = cert->san_email;
  p->not_before = cert->not_before;
  p->not_after = cert->not_after;
  p->chain_verified = true;  // issued by the suite CA, as the TLS layer would report it
  return p;
}

inline boost::json::object json_of(const std::string& body) {
  auto o = core::parse_json_object(body);
  if (!o) {
    ADD_FAILURE() << "not a JSON object: " << body;
    return {};
  }
  return *o;
}

inline std::string str(const boost::json::object& o, std::string_view key) {
  return std::string(core::get_string(o, key).value_or("<absent>"));
}

// A JSON array of strings as a vector (empty when absent or not an array), e.g. a discovery
// document's *_values_supported.
inline std::vector<std::string> strings_of(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = o.if_contains(key); a && a->is_array()) {
    for (const auto& v : a->get_array()) {
      if (v.is_string()) {
        out.emplace_back(v.get_string());
      }
    }
  }
  return out;
}

inline std::string unique_db_path() {
  static std::atomic<int> n{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "x";
  for (char& c : name) {
    if (c == '/') {
      c = '_';
    }
  }
  return (std::filesystem::temp_directory_path() /
          ("fapigate-as-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + name +
           ".db"))
      .string();
}

inline void remove_db(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

class AsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    core::log::configure(core::log::Level::Off);
    if (pki_) {
      return;
    }
    auto pki = std::make_unique<SuitePki>();
    auto ca = crypto::issue_ca({});
    ASSERT_TRUE(ca) << ca.error().message();
    pki->ca = *ca;
    auto leaf = [&](std::string cn, std::vector<std::string> dns) {
      crypto::LeafOptions o;
      o.common_name = std::move(cn);
      o.dns_names = std::move(dns);
      auto c = crypto::issue_client_certificate(pki->ca, o);
      EXPECT_TRUE(c) << c.error().message();
      return c ? *c : crypto::IssuedCertificate{};
    };
    pki->partner = leaf("partner-client", {});
    pki->other = leaf("other-partner", {});
    pki->san = leaf("san-client", {"partner.example.com"});
    auto rsa = crypto::Key::generate(crypto::KeyType::Rsa);
    ASSERT_TRUE(rsa) << rsa.error().message();
    pki->rsa_signing_key = *rsa;
    pki->rsa_kid = jose::thumbprint(jose::make_jwk(rsa->public_only(), "", jose::Alg::PS256));
    pki_ = pki.release();
  }

  void SetUp() override {
    ASSERT_NE(pki_, nullptr);
    path_ = unique_db_path();
    open_store();
    seed_rsa_key(*store_);
    partner_ = peer_of(pki_->partner);
    other_ = peer_of(pki_->other);
    san_ = peer_of(pki_->san);
  }

  void TearDown() override {
    service_.reset();
    store_.reset();
    remove_db(path_);
  }

  void open_store() {
    auto s = store::open_sqlite_store(path_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }

  static void seed_rsa_key(store::Store& st) {
    store::SigningKeyRecord rec;
    rec.kid = pki_->rsa_kid;
    rec.alg = "PS256";
    rec.private_pem = pki_->rsa_signing_key.private_pem();
    rec.created_at = kNow - 100;
    rec.not_before = kNow - 100;
    ASSERT_TRUE(st.put_signing_key(rec));
  }

  static config::ClientRegistration client(std::string id, std::string dn,
                                           std::vector<std::string> scopes = {"accounts",
                                                                              "payments"}) {
    config::ClientRegistration c;
    c.client_id = std::move(id);
    c.tls_client_auth_subject_dn = std::move(dn);
    c.grant_types = {"client_credentials"};
    c.scopes = std::move(scopes);
    return c;
  }

  static config::AuthorizationServer default_settings() {
    config::AuthorizationServer s;
    s.enabled = true;
    s.issuer = kIssuer;
    s.mtls_base_url = kMtlsBase;
    s.signing_alg = "PS256";
    s.access_token_lifetime = 300;
    s.access_token_audiences = {kApiAudience};
    s.scopes_supported = {"accounts", "payments"};
    // Most tests introspect a token as the client it was issued to, as the demo allows; the
    // IntrospectionPolicy tests turn this off (the default) to check resource-server-only.
    s.introspection_by_token_owner = true;
    s.clients.push_back(client("partner-client", "CN=partner-client,O=fapigate"));
    s.clients.push_back(client("other-partner", "CN=other-partner,O=fapigate"));
    // Registered DN written with other spacing and attribute-type case.
    s.clients.push_back(client("spaced-dn", "cn = partner-client ,  o=fapigate"));
    // A DN that is a strict subset of the certificate's: must not match.
    s.clients.push_back(client("partial-dn", "CN=partner-client"));
    auto san = client("san-client", "", {"accounts"});
    san.tls_client_auth_san_dns = "partner.example.com";
    s.clients.push_back(san);
    auto san_other = client("san-other", "", {"accounts"});
    san_other.tls_client_auth_san_dns = "other.example.com";
    s.clients.push_back(san_other);
    auto code_only = client("code-only", "CN=partner-client,O=fapigate");
    code_only.grant_types = {"authorization_code"};
    s.clients.push_back(code_only);
    auto pkjwt = client("pkjwt-client", "CN=partner-client,O=fapigate");
    pkjwt.token_endpoint_auth_method = "private_key_jwt";
    s.clients.push_back(pkjwt);
    return s;
  }

  void start(const config::AuthorizationServer& s) {
    auto svc = AsService::create(s, *store_, clock_);
    ASSERT_TRUE(svc) << svc.error().message();
    service_ = *svc;
  }
  void start() { start(default_settings()); }

  // Runs the handler and checks the Responder is called exactly once. Not necessarily
  // synchronously: the token endpoint answers from the store's group-commit thread once the
  // token is durable (store/sqlite/group_commit.hpp), so the answer is waited for.
  http::Response call(http::Request req) {
    struct Answer {
      std::mutex mu;
      std::condition_variable cv;
      int calls = 0;
      http::Response out;
    };
    auto answer = std::make_shared<Answer>();
    service_->handle(std::move(req), [answer](http::Response r) {
      std::lock_guard lock(answer->mu);
      ++answer->calls;
      answer->out = std::move(r);
      answer->cv.notify_all();
    });
    std::unique_lock lock(answer->mu);
    answer->cv.wait_for(lock, std::chrono::seconds(10), [&] { return answer->calls > 0; });
    EXPECT_EQ(answer->calls, 1);
    return answer->out;
  }

  static http::Request post(std::string path, std::string body,
                            std::shared_ptr<const http::PeerCertificate> cert,
                            std::string content_type = "application/x-www-form-urlencoded") {
    http::Request r;
    r.method = "POST";
    r.path = path;
    r.target = std::move(path);
    if (!content_type.empty()) {
      r.headers.add("Content-Type", std::move(content_type));
    }
    r.headers.add("Host", "mtls.as.example");
    r.body = std::move(body);
    r.remote_address = "127.0.0.1";
    r.tls = true;
    r.peer_certificate = std::move(cert);
    return r;
  }

  static http::Request get(std::string path) {
    http::Request r;
    r.method = "GET";
    r.path = path;
    r.target = std::move(path);
    r.remote_address = "127.0.0.1";
    r.tls = true;
    return r;
  }

  http::Response token(std::string body, std::shared_ptr<const http::PeerCertificate> cert) {
    return call(post("/token", std::move(body), std::move(cert)));
  }

  // A token for partner-client with the partner certificate; fails the test if refused.
  std::string issue_partner_token(std::string extra = {}) {
    auto r = token("grant_type=client_credentials&client_id=partner-client" + extra, partner_);
    EXPECT_EQ(r.status, 200) << r.body;
    return str(json_of(r.body), "access_token");
  }

  http::Response introspect(std::string token_param,
                            std::shared_ptr<const http::PeerCertificate> cert) {
    return call(post("/introspect",
                     "client_id=partner-client&token=" + std::move(token_param), std::move(cert)));
  }

  // Asserts an RFC 6749 §5.2 error response: status, error code, no-store, JSON.
  static void expect_oauth_error(const http::Response& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status) << r.body;
    auto o = json_of(r.body);
    EXPECT_EQ(str(o, "error"), error) << r.body;
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(o.find("access_token"), o.end());
  }

  static inline SuitePki* pki_ = nullptr;
  core::ManualClock clock_{kNow};
  std::string path_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<AsService> service_;
  std::shared_ptr<const http::PeerCertificate> partner_, other_, san_;
};

}  // namespace fapigate::as::test
