// The gateway as a policy enforcement point, with real processes and curl: phantom tokens
// against the AS (opaque token in, issuer's JWT to the upstream), RFC 9440 Client-Cert from a
// trusted proxy and from an untrusted peer, per-method scopes, 502/504 with JSON bodies, two
// issuers, and an issuer that goes down (cached keys keep working, an unknown kid is refused).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "support/loopback_socket.hpp"

namespace fapigate::testing {
namespace {

constexpr const char* kInsufficient =
    "Bearer realm=\"fapigate\", error=\"insufficient_scope\", error_description=\"the access "
    "token lacks a required scope\", scope=\"";

std::string invalid_token(const std::string& description) {
  return "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"" + description +
         "\"";
}

boost::json::object json_of(const std::string& body) {
  auto o = core::parse_json_object(body, core::JsonLimits{1 << 20, 16});
  return o ? *o : boost::json::object{};
}

std::string field(const boost::json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

class GatewayFlow : public ::testing::Test {
protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(run_fapigate({"pki", "init", "--dir", dir_.path()}, &out), 0) << out;
    pki_ = dir_.path() + "/pki/";
    for (auto [name, dn, der] : {std::tuple{"partner", &partner_dn_, &partner_der_},
                                 std::tuple{"other-partner", &other_dn_, &other_der_}}) {
      auto cert = crypto::parse_certificate_pem(read_file_text(pki_ + name + ".pem"));
      ASSERT_TRUE(cert);
      *dn = cert->subject_dn;
      *der = cert->der;
    }
    base_ = find_free_port_base();
  }

  std::string port(int i) const { return std::to_string(base_ + i); }
  std::string issuer() const { return "https://localhost:" + port(0); }
  std::string audience() const { return "https://localhost:" + port(2); }

  // The AS (and the demo API on N+3). `extra` goes under authorization_server.
  std::string as_yaml(const std::string& extra = {}, bool demo_api = true) const {
    std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    std::string s = "log:\n  level: info\n"
                    "store:\n  sqlite_path: as-" + port(0) + ".db\n"
                    "authorization_server:\n  enabled: true\n"
                    "  issuer: " + issuer() + "\n"
                    "  mtls_base_url: https://localhost:" + port(1) + "\n"
                    "  front:\n    port: " + port(0) + "\n    tls:\n" + tls +
                    "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls +
                    "      client_ca_file: pki/ca.pem\n"
                    "  access_token_audiences: [" + audience() + "]\n"
                    "  scopes_supported: [accounts, payments]\n"
                    "  clients:\n"
                    "    - client_id: partner-client\n"
                    "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
                    "      grant_types: [client_credentials]\n"
                    "      scopes: [accounts, payments]\n"
                    "    - client_id: gateway-client\n"
                    "      tls_client_auth_subject_dn: \"" + other_dn_ + "\"\n"
                    "      grant_types: [client_credentials]\n"
                    "      scopes: [accounts]\n" + extra;
    if (demo_api) {
      s += "demo_api:\n  enabled: true\n  listener:\n    port: " + port(3) + "\n";
    }
    return s;
  }

  // `listener` is the indented body of gateway.listener; `issuers` and `routes` the lists.
  std::string gateway_yaml(const std::string& listener, const std::string& issuers,
                           const std::string& routes, const std::string& extra = {}) const {
    return "gateway:\n  enabled: true\n  upstream_timeout_ms: 1500\n" + extra +
           "  listener:\n    port: " + port(2) + "\n" + listener + "  issuers:\n" + issuers +
           "  routes:\n" + routes;
  }

  std::string mtls_listener() const {
    return "    tls:\n      cert_file: pki/server.pem\n      key_file: pki/server.key\n"
           "      client_ca_file: pki/ca.pem\n";
  }

  std::string jwt_issuer() const {
    return "    - issuer: " + issuer() + "\n      jwks_uri: " + issuer() + "/jwks\n"
           "      ca_file: pki/ca.pem\n      audiences: [" + audience() + "]\n";
  }

  // The AS issues opaque tokens for the gateway's audience and lets gateway-client introspect
  // them (under authorization_server); the gateway's issuer entry for them finds the
  // introspection endpoint (mTLS alias) and JWKS by discovery.
  std::string opaque_resources() const {
    return "  resources:\n    - audience: " + audience() +
           "\n      access_token_format: opaque\n"
           "      introspection_clients: [gateway-client]\n";
  }
  std::string opaque_issuer() const {
    return "    - issuer: " + issuer() + "\n      ca_file: pki/ca.pem\n"
           "      client_cert_file: pki/other-partner.pem\n"
           "      client_key_file: pki/other-partner.key\n"
           "      audiences: [" + audience() + "]\n      opaque_tokens: true\n"
           "      introspection_client_id: gateway-client\n";
  }

  std::string demo_routes() const {
    return "    - name: payments\n      path: /domestic-payments\n      methods: [POST]\n"
           "      scopes: [payments]\n      upstream: http://127.0.0.1:" + port(3) + "\n"
           "    - name: accounts\n      path: /accounts\n      methods: [GET]\n"
           "      scopes: [accounts]\n      upstream: http://127.0.0.1:" + port(3) + "\n"
           "      claim_headers: {X-User: sub}\n";
  }

  std::string write(const std::string& name, const std::string& text) const {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string tls_args(const char* who = "partner") const {
    return "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
           shell_quote(pki_ + who + ".pem") + " --key " + shell_quote(pki_ + who + ".key") + " ";
  }

  std::string token(const std::string& scope, const std::string& mtls_port = {}) const {
    auto r = curl(tls_args() + "--data " +
                  shell_quote("grant_type=client_credentials&client_id=partner-client&scope=" +
                              scope) +
                  " " + shell_quote("https://localhost:" +
                                    (mtls_port.empty() ? port(1) : mtls_port) + "/token"));
    EXPECT_EQ(r.status, 200) << r.body;
    return field(json_of(r.body), "access_token");
  }

  std::string gw_url(const std::string& path, bool tls = true) const {
    return (tls ? "https://localhost:" : "http://127.0.0.1:") + port(2) + path;
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& tok,
                  const std::string& extra = {}, bool tls = true) const {
    std::string args = tls ? tls_args() : std::string();
    args += "-X " + method + " ";
    if (!tok.empty()) {
      args += "-H " + shell_quote("Authorization: Bearer " + tok) + " ";
    }
    return curl(args + extra + " " + shell_quote(gw_url(path, tls)));
  }

  static std::string client_cert_header(const std::string& der) {
    return "-H " + shell_quote("Client-Cert: :" + core::base64_encode(der) + ":") + " ";
  }

  static void expect_refusal(const HttpResult& r, int status, const std::string& www) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate"), www) << r.body;
    EXPECT_FALSE(r.header("x-fapi-interaction-id").empty());
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_, other_dn_, partner_der_, other_der_;
  std::uint16_t base_ = 0;
};

// ---- phantom token ------------------------------------------------------------------------------

// The phantom-token pattern with a token the gateway signs for the upstream: the real AS issues
// an opaque token, the gateway introspects it and sends the demo API a JWT of its own (iss the
// gateway, aud the route's upstream_audience), whose public key the admin listener publishes.
TEST_F(GatewayFlow, PhantomTokenReachesTheUpstreamAsAGatewaySignedJwt) {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  write("upstream-signing.pem", key->private_pem());
  const std::string routes =
      "    - name: accounts\n      path: /accounts\n      methods: [GET]\n"
      "      scopes: [accounts]\n      upstream: http://127.0.0.1:" + port(3) + "\n"
      "      upstream_token: gateway\n      upstream_audience: https://accounts.internal\n";
  const std::string signing =
      "  upstream_token_signing:\n    key_file: upstream-signing.pem\n"
      "    kid: gw-upstream-1\n    issuer: https://gateway.bank.test\n";
  auto path = write("gw-signed.yaml",
                    as_yaml(opaque_resources()) +
                        gateway_yaml(mtls_listener(), opaque_issuer(), routes, signing) +
                        "admin:\n  enabled: true\n  listener:\n    port: 0\n");
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/gw-signed.log");

  const std::string tok = token("accounts");
  ASSERT_FALSE(tok.empty());
  EXPECT_EQ(tok.find('.'), std::string::npos) << "the AS must issue an opaque token: " << tok;
  auto r = call("GET", "/accounts", tok);
  ASSERT_EQ(r.status, 200) << r.body << read_file_text(dir_.path() + "/gw-signed.log");
  const auto body = json_of(r.body);
  auto caller = core::get_object(body, "caller");
  ASSERT_NE(caller, nullptr) << r.body;
  EXPECT_EQ(field(*caller, "authorization"), "jwt");
  EXPECT_EQ(field(*caller, "iss"), "https://gateway.bank.test");
  EXPECT_EQ(field(*caller, "aud"), "https://accounts.internal");
  EXPECT_EQ(field(*caller, "client_id"), "partner-client");
  EXPECT_EQ(field(*caller, "scope"), "accounts");
  EXPECT_EQ(field(*caller, "token_cnf_x5t#S256"), crypto::x5t_s256(partner_der_));

  // The public half on the admin listener: one EC key under the configured kid, nothing private.
  const std::uint16_t admin_port = ready_port(server.ready_line(), "admin");
  ASSERT_NE(admin_port, 0) << server.ready_line();
  const std::string admin = "http://127.0.0.1:" + std::to_string(admin_port);
  auto jwks = curl(shell_quote(admin + "/upstream-jwks"));
  ASSERT_EQ(jwks.status, 200) << jwks.body;
  auto parsed = jose::parse_jwks(jwks.body);
  ASSERT_TRUE(parsed) << jwks.body;
  ASSERT_EQ(parsed->keys.size(), 1u);
  EXPECT_EQ(parsed->keys[0].kid, "gw-upstream-1");
  EXPECT_FALSE(parsed->keys[0].key.is_private());
  EXPECT_TRUE(parsed->keys[0].key.same_public_key(*key));
  auto post = curl("-X POST " + shell_quote(admin + "/upstream-jwks"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(GatewayFlow, PhantomTokenEndToEnd) {
  auto path = write("phantom.yaml", as_yaml(opaque_resources()) +
                                        gateway_yaml(mtls_listener(), opaque_issuer(),
                                                     demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/phantom.log");

  const std::string tok = token("accounts payments");
  ASSERT_FALSE(tok.empty());
  EXPECT_EQ(tok.find('.'), std::string::npos) << "the AS must issue an opaque token: " << tok;

  auto r = call("GET", "/accounts", tok);
  ASSERT_EQ(r.status, 200) << r.body << read_file_text(dir_.path() + "/phantom.log");
  const auto body = json_of(r.body);
  auto caller = core::get_object(body, "caller");
  ASSERT_NE(caller, nullptr) << r.body;
  // The upstream got a JWT (the AS's RFC 9701 answer) carrying the token's claims, never the
  // opaque token, and the claim header the route configures.
  EXPECT_EQ(field(*caller, "authorization"), "jwt") << r.body;
  EXPECT_EQ(field(*caller, "client_id"), "partner-client");
  EXPECT_EQ(field(*caller, "x_user"), "partner-client");
  EXPECT_EQ(field(*caller, "token_cnf_x5t#S256"), crypto::x5t_s256(partner_der_));
  EXPECT_EQ(call("POST", "/domestic-payments", tok).status, 200);

  // Bound to the partner's certificate: presented with another one, it is refused.
  auto stolen = curl(tls_args("other-partner") + "-H " +
                     shell_quote("Authorization: Bearer " + tok) + " " +
                     shell_quote(gw_url("/accounts")));
  expect_refusal(stolen, 401, invalid_token("the access token is bound to another certificate"));
  // An opaque token the AS never issued is inactive.
  expect_refusal(call("GET", "/accounts", "made-up-opaque-token-0123456789"), 401,
                 invalid_token("the access token is not active"));
  // Scope still decides per route.
  const std::string pay_only = token("payments");
  expect_refusal(call("GET", "/accounts", pay_only), 403, std::string(kInsufficient) + "accounts\"");
  EXPECT_EQ(server.stop(), 0);
}

// ---- revocation of JWT access tokens ------------------------------------------------------------

// FAPI 1.0 Part 1 §6.2.1, FAPI 2.0 SP §5.3.4: with jwt_revocation_check the gateway asks the
// AS (signed RFC 9701 introspection over mTLS, as gateway-client) whether a JWT it verified is
// still active. After the partner revokes its token at the AS (RFC 7009), the gateway refuses
// it within the interval; a token that was never revoked keeps working.
TEST_F(GatewayFlow, JwtRevokedAtTheAsIsRefusedWithinTheCheckInterval) {
  const std::string resources = "  resources:\n    - audience: " + audience() +
                                "\n      introspection_clients: [gateway-client]\n";
  const std::string issuer_yaml = "    - issuer: " + issuer() +
                                  "\n      ca_file: pki/ca.pem\n"
                                  "      client_cert_file: pki/other-partner.pem\n"
                                  "      client_key_file: pki/other-partner.key\n"
                                  "      audiences: [" + audience() + "]\n"
                                  "      introspection_client_id: gateway-client\n"
                                  "      jwt_revocation_check: 1\n";
  auto path = write("revocation.yaml", as_yaml(resources) +
                                           gateway_yaml(mtls_listener(), issuer_yaml,
                                                        demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/revocation.log");

  const std::string tok = token("accounts payments");
  const std::string kept = token("accounts payments");
  ASSERT_NE(tok.find('.'), std::string::npos) << "the AS must issue a JWT: " << tok;
  auto r = call("GET", "/accounts", tok);
  ASSERT_EQ(r.status, 200) << r.body << read_file_text(dir_.path() + "/revocation.log");
  // The upstream gets the JWT itself.
  const auto body = json_of(r.body);
  auto caller = core::get_object(body, "caller");
  ASSERT_NE(caller, nullptr) << r.body;
  EXPECT_EQ(field(*caller, "authorization"), "jwt");
  EXPECT_EQ(field(*caller, "iss"), issuer());
  ASSERT_EQ(call("GET", "/accounts", kept).status, 200);

  auto revoked = curl(tls_args() + "--data " +
                      shell_quote("client_id=partner-client&token=" + tok) + " " +
                      shell_quote("https://localhost:" + port(1) + "/revoke"));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  // The last "active" answer holds for at most 1 s; bounded wait for the refusal.
  HttpResult last;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    last = call("GET", "/accounts", tok);
    if (last.status == 401) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < until);
  expect_refusal(last, 401, invalid_token("the access token is not active"));
  EXPECT_EQ(call("GET", "/accounts", kept).status, 200) << "the other token is not revoked";
  EXPECT_EQ(server.stop(), 0);
}

// ---- RFC 9440 Client-Cert behind a TLS-terminating proxy ------------------------------------

TEST_F(GatewayFlow, ClientCertHeaderFromATrustedProxy) {
  // A plain-HTTP gateway listener behind a load balancer at 127.0.0.1 (curl plays the LB).
  auto path = write("trusted.yaml",
                    as_yaml() + gateway_yaml("", jwt_issuer(), demo_routes(),
                                             "  trusted_proxies: [127.0.0.1/32]\n"));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/trusted.log");
  const std::string tok = token("accounts payments");

  auto ok = call("GET", "/accounts", tok, client_cert_header(partner_der_), false);
  ASSERT_EQ(ok.status, 200) << ok.body;
  const auto body = json_of(ok.body);
  auto caller = core::get_object(body, "caller");
  ASSERT_NE(caller, nullptr);
  EXPECT_EQ(field(*caller, "certificate_thumbprint"), crypto::x5t_s256(partner_der_));

  expect_refusal(call("GET", "/accounts", tok, client_cert_header(other_der_), false), 401,
                 invalid_token("the access token is bound to another certificate"));
  expect_refusal(call("GET", "/accounts", tok, "", false), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
  auto bad = call("GET", "/accounts", tok, "-H 'Client-Cert: :bm90IGEgY2VydA==:'", false);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(field(json_of(bad.body), "error"), "invalid_request");
  EXPECT_EQ(server.stop(), 0);
}

// RFC 9440 §2.3 (CC-02): a TPP whose certificate comes from a directory's issuing CA sends that
// CA in the handshake; the gateway, trusting only the directory root, verifies through it and
// tells the upstream which intermediate it was, beside Client-Cert. A client issued directly by
// a trust anchor sends no chain, and a Client-Cert-Chain the client writes itself is dropped.
TEST_F(GatewayFlow, TheIntermediatesTheGatewayVerifiedReachTheUpstreamAsClientCertChain) {
  crypto::CaOptions root_options;
  root_options.common_name = "directory root";
  root_options.path_length = 1;
  auto root = crypto::issue_ca(root_options);
  ASSERT_TRUE(root);
  crypto::CaOptions issuing_options;
  issuing_options.common_name = "directory issuing CA";
  auto issuing = crypto::issue_intermediate_ca(*root, issuing_options);
  ASSERT_TRUE(issuing);
  crypto::LeafOptions tpp;
  tpp.common_name = "chained-tpp";
  tpp.organization = "Chained TPP Ltd";
  auto leaf = crypto::issue_client_certificate(*issuing, tpp);
  ASSERT_TRUE(leaf);
  const auto leaf_view = crypto::parse_certificate_der(leaf->der);
  ASSERT_TRUE(leaf_view);
  write("chained.pem", leaf->cert_pem + issuing->cert_pem);  // as the TPP sends it
  write("chained.key", leaf->key_pem);
  // Both listeners trust the demo CA and the directory root (not the issuing CA).
  write("client-cas.pem", read_file_text(pki_ + "ca.pem") + root->cert_pem);
  auto trust_both = [](std::string yaml) {
    for (auto at = yaml.find("client_ca_file: pki/ca.pem"); at != std::string::npos;
         at = yaml.find("client_ca_file: pki/ca.pem", at)) {
      yaml.replace(at, std::string("client_ca_file: pki/ca.pem").size(),
                   "client_ca_file: client-cas.pem");
    }
    return yaml;
  };
  const std::string chained_client = "    - client_id: chained-tpp\n"
                                     "      tls_client_auth_subject_dn: \"" +
                                     leaf_view->subject_dn +
                                     "\"\n      grant_types: [client_credentials]\n"
                                     "      scopes: [accounts]\n";
  auto path = write("chain.yaml",
                    trust_both(as_yaml(chained_client) +
                               gateway_yaml(mtls_listener(), jwt_issuer(), demo_routes())));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/chain.log");

  const std::string chained_tls = "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
                                  shell_quote(dir_.path() + "/chained.pem") + " --key " +
                                  shell_quote(dir_.path() + "/chained.key") + " ";
  auto t = curl(chained_tls + "--data " +
                shell_quote("grant_type=client_credentials&client_id=chained-tpp&scope=accounts") +
                " " + shell_quote("https://localhost:" + port(1) + "/token"));
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string tok = field(json_of(t.body), "access_token");
  auto r = curl(chained_tls + "-H " + shell_quote("Authorization: Bearer " + tok) + " -H " +
                shell_quote("Client-Cert-Chain: :Zm9yZ2Vk:") + " " +
                shell_quote(gw_url("/accounts")));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = json_of(r.body);
  auto caller = core::get_object(body, "caller");
  ASSERT_NE(caller, nullptr) << r.body;
  EXPECT_EQ(field(*caller, "certificate_thumbprint"), crypto::x5t_s256(leaf->der));
  EXPECT_EQ(boost::json::serialize(caller->at("certificate_chain_thumbprints")),
            "[\"" + crypto::x5t_s256(issuing->der) + "\"]");

  // The demo partner, issued by the demo CA itself: Client-Cert only.
  auto direct = call("GET", "/accounts", token("accounts"));
  ASSERT_EQ(direct.status, 200) << direct.body;
  const auto direct_body = json_of(direct.body);
  auto direct_caller = core::get_object(direct_body, "caller");
  ASSERT_NE(direct_caller, nullptr);
  EXPECT_EQ(boost::json::serialize(direct_caller->at("certificate_chain_thumbprints")), "[]");
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(GatewayFlow, ClientCertHeaderFromAnUntrustedPeerIsIgnored) {
  auto path = write("untrusted.yaml",
                    as_yaml() + gateway_yaml("", jwt_issuer(), demo_routes(),
                                             "  trusted_proxies: [10.0.0.0/8]\n"));
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/untrusted.log");
  const std::string tok = token("accounts payments");
  expect_refusal(call("GET", "/accounts", tok, client_cert_header(partner_der_), false), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
  // Even a malformed header is simply ignored: it never reaches a parser.
  expect_refusal(call("GET", "/accounts", tok, "-H 'Client-Cert: garbage'", false), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
  EXPECT_EQ(server.stop(), 0);
}

// ---- per-method scopes, refusals, upstream failures -----------------------------------------

TEST_F(GatewayFlow, PerMethodScopesAndUpstreamFailures) {
  // A socket that accepts (the kernel completes the handshake) and never answers: a hung upstream.
  std::uint16_t port_number = 0;
  const int hung = listen_loopback(&port_number, 16);
  ASSERT_GE(hung, 0);
  const std::string hung_port = std::to_string(port_number);
  // A port nobody listens on: connection refused.
  ::close(listen_loopback(&port_number));
  const std::string closed_port = std::to_string(port_number);

  const std::string routes =
      "    - name: accounts-crud\n      path: /accounts\n      methods: [GET, POST]\n"
      "      method_scopes: {GET: [accounts], POST: [payments]}\n"
      "      upstream: http://127.0.0.1:" + port(3) + "\n"
      "    - name: down\n      path: /down\n      upstream: http://127.0.0.1:" + closed_port + "\n"
      "    - name: hung\n      path: /hung\n      methods: [POST]\n"
      "      upstream: http://127.0.0.1:" + hung_port + "\n";
  auto path = write("methods.yaml", as_yaml() + gateway_yaml(mtls_listener(), jwt_issuer(), routes));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/methods.log");

  const std::string read = token("accounts");
  const std::string write_tok = token("payments");
  EXPECT_EQ(call("GET", "/accounts", read).status, 200);
  expect_refusal(call("POST", "/accounts", read), 403, std::string(kInsufficient) + "payments\"");
  expect_refusal(call("GET", "/accounts", write_tok), 403,
                 std::string(kInsufficient) + "accounts\"");
  // Allowed by the gateway; the demo API itself answers 405 for POST /accounts.
  EXPECT_EQ(call("POST", "/accounts", write_tok).status, 405);
  expect_refusal(call("DELETE", "/accounts", read), 405, "");

  // Bare challenge without a token; malformed and foreign tokens.
  expect_refusal(call("GET", "/accounts", ""), 401, "Bearer realm=\"fapigate\"");
  expect_refusal(call("GET", "/accounts", "not.a.jwt"), 401,
                 invalid_token("the access token is malformed"));

  auto down = call("GET", "/down", read, "-H 'x-fapi-interaction-id: trace-502'");
  EXPECT_EQ(down.status, 502) << down.body;
  EXPECT_EQ(down.header("Content-Type"), "application/json");
  EXPECT_EQ(field(json_of(down.body), "error"), "upstream_unavailable");
  EXPECT_EQ(down.header("x-fapi-interaction-id"), "trace-502");

  const auto t0 = std::chrono::steady_clock::now();
  auto slow = call("POST", "/hung", read);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(slow.status, 504) << slow.body;
  EXPECT_EQ(slow.header("Content-Type"), "application/json");
  EXPECT_EQ(field(json_of(slow.body), "error"), "upstream_timeout");
  EXPECT_FALSE(slow.header("x-fapi-interaction-id").empty());
  EXPECT_LT(waited, std::chrono::seconds(10));
  ::close(hung);
  EXPECT_EQ(server.stop(), 0);
}

// ---- several issuers; an issuer that goes down -------------------------------------------------

// A JWT access token for `iss` signed by a key no issuer publishes (an unknown kid).
std::string forged(const std::string& iss, const std::string& aud, const std::string& x5t) {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  EXPECT_TRUE(key);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  boost::json::object c{{"iss", iss},     {"aud", aud},         {"sub", "partner-client"},
                        {"client_id", "partner-client"},        {"scope", "accounts payments"},
                        {"iat", now},     {"exp", now + 300},   {"jti", "forged-1"},
                        {"cnf", boost::json::object{{"x5t#S256", x5t}}}};
  auto t = jose::sign_compact(boost::json::serialize(c), jose::Alg::ES256, *key, "never-published",
                              "at+jwt");
  EXPECT_TRUE(t);
  return t ? *t : std::string();
}

TEST_F(GatewayFlow, TwoIssuersAndAnIssuerThatGoesDown) {
  // Issuer 1: AS + demo API on N, N+1, N+3. Issuer 2: a second AS on its own ports. The gateway
  // runs alone on N+2 so that issuer 1 can be stopped under it. Issuer 1 starts first, so that
  // the second port range cannot overlap the first.
  auto as1_path = write("as1.yaml", as_yaml());
  auto as1 = std::make_unique<ServerProcess>(std::vector<std::string>{"serve", "-c", as1_path},
                                             dir_.path() + "/as1.log");
  std::uint16_t base2 = find_free_port_base();
  while (base2 <= base_ + 3 && base2 + 3 >= base_) {
    base2 = find_free_port_base();
  }
  const std::string iss2 = "https://localhost:" + std::to_string(base2);
  std::string as2 = as_yaml({}, false);
  for (auto [from, to] : {std::pair{port(0), std::to_string(base2)},
                          std::pair{port(1), std::to_string(base2 + 1)}}) {
    for (auto p = as2.find(from); p != std::string::npos; p = as2.find(from, p + to.size())) {
      as2.replace(p, from.size(), to);
    }
  }
  const std::string issuers =
      jwt_issuer() + "    - issuer: " + iss2 + "\n      jwks_uri: " + iss2 + "/jwks\n"
      "      ca_file: pki/ca.pem\n      audiences: [" + audience() + "]\n";
  const std::string routes =
      demo_routes() + "    - name: accounts-from-2\n      path: /v2/accounts\n"
                      "      issuers: [" + iss2 + "]\n      upstream: http://127.0.0.1:" +
      port(3) + "\n";
  auto as2_path = write("as2.yaml", as2);
  auto gw_path = write("gw.yaml", "log:\n  level: info\n" +
                                      gateway_yaml(mtls_listener(), issuers, routes));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", gw_path}, &out), 0) << out;
  ServerProcess as2_proc({"serve", "-c", as2_path}, dir_.path() + "/as2.log");
  ServerProcess gw({"serve", "-c", gw_path}, dir_.path() + "/gw.log");

  const std::string t1 = token("accounts payments");
  const std::string t1_unused = token("accounts payments");
  const std::string t2 = token("accounts payments", std::to_string(base2 + 1));
  EXPECT_EQ(call("GET", "/accounts", t1).status, 200);
  EXPECT_EQ(call("GET", "/accounts", t2).status, 200) << "issuer 2's tokens verify too";
  // The route that trusts only issuer 2.
  EXPECT_EQ(call("GET", "/v2/accounts", t2).status, 404) << "allowed; the demo API has no such path";
  expect_refusal(call("GET", "/v2/accounts", t1), 401,
                 invalid_token("the token issuer is not trusted here"));

  ASSERT_EQ(as1->stop(), 0);
  as1.reset();
  // Cached keys keep working for a token the gateway has never seen.
  auto r = call("POST", "/domestic-payments", t1_unused);
  EXPECT_NE(r.status, 401) << r.body;  // 502: the demo API went down with issuer 1
  EXPECT_EQ(r.status, 502);
  // A kid issuer 1 never published: refused, not waved through while the issuer is away.
  expect_refusal(call("GET", "/accounts", forged(issuer(), audience(),
                                                 crypto::x5t_s256(partner_der_))),
                 401, invalid_token("the token signing key is unknown"));
  EXPECT_EQ(gw.stop(), 0);
  EXPECT_EQ(as2_proc.stop(), 0);
}

// ---- key rotation at the issuer while traffic flows ------------------------------------------

std::string kid_of(const std::string& jwt) {
  auto header = core::base64url_decode(jwt.substr(0, jwt.find('.')));
  if (!header) {
    return {};
  }
  auto o = core::parse_json_object(*header);
  return o ? std::string(core::get_string(*o, "kid").value_or("")) : std::string();
}

TEST_F(GatewayFlow, KeyRotationWhileTrafficFlowsFailsNoRequest) {
  // The AS publishes a new key 2 s before it signs with it; the gateway refreshes its JWKS ahead
  // of expiry (max-age bounded to 2 s here) and refetches on an unknown kid (at most 1/s).
  const std::string as_extra = "  key_refresh_interval: 1\n  key_publish_ahead: 2\n";
  const std::string issuer_fast =
      jwt_issuer() + "      jwks_max_age: 2\n      jwks_min_age: 1\n"
                     "      jwks_refetch_min_interval: 1\n";
  auto path = write("rotate.yaml", as_yaml(as_extra) +
                                       gateway_yaml(mtls_listener(), issuer_fast, demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/rotate.log");
  const std::string first = token("accounts payments");
  const std::string old_kid = kid_of(first);
  ASSERT_FALSE(old_kid.empty());

  int failures = 0;
  int requests = 0;
  bool rotated = false;
  bool new_key_seen = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline && !new_key_seen) {
    const std::string tok = token("accounts payments");
    auto r = call("GET", "/accounts", tok);
    ++requests;
    if (r.status != 200) {
      ++failures;
      ADD_FAILURE() << "request " << requests << " with kid " << kid_of(tok) << ": " << r.status
                    << " " << r.header("WWW-Authenticate");
    }
    // Old tokens keep working across the rotation too.
    if (call("GET", "/accounts", first).status != 200) {
      ++failures;
    }
    if (requests == 3 && !rotated) {
      ASSERT_EQ(run_fapigate({"keys", "rotate", "-c", path}, &out), 0) << out;
      rotated = true;
    }
    new_key_seen = rotated && kid_of(tok) != old_kid;
  }
  EXPECT_TRUE(new_key_seen) << "the AS never signed with the new key";
  EXPECT_EQ(failures, 0) << "of " << requests << " requests";
  EXPECT_EQ(server.stop(), 0);
}

// With no request at all, the gateway's key refresher fetches the issuer's JWKS again as each
// copy reaches 80% of its age (max-age bounded to 2 s here), so an idle gateway never meets
// expired keys on its next request.
TEST_F(GatewayFlow, IdleGatewayRefreshesTheIssuerKeysWithoutTraffic) {
  const std::string issuer_fast = jwt_issuer() + "      jwks_max_age: 2\n      jwks_min_age: 1\n";
  auto path = write("idle.yaml", as_yaml() + gateway_yaml(mtls_listener(), issuer_fast,
                                                          demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  const std::string log = dir_.path() + "/idle.log";
  ServerProcess server({"serve", "-c", path}, log);
  auto loads = [&] {
    const std::string text = read_file_text(log);
    int n = 0;
    for (auto at = text.find("\"jwks_loaded\""); at != std::string::npos;
         at = text.find("\"jwks_loaded\"", at + 1)) {
      ++n;
    }
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (loads() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GE(loads(), 4) << "the warm-up and at least three refreshes, with no request made";
  // And the keys serve the first request after the quiet spell without a wait for a fetch.
  EXPECT_EQ(call("GET", "/accounts", token("accounts")).status, 200);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace fapigate::testing
