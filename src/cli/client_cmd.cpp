// `fapigate client`: the partner's side as a smoke test. Gets a certificate-bound token over
// mTLS and calls the API with it, printing what happened at each step. The access token itself
// is never printed, only its hash prefix and claims.
#include <iostream>

#include <boost/json/serialize.hpp>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "http/client.hpp"

namespace fapigate::cli {
namespace {

bool fill_from_demo(ClientOptions& o) {
  auto text = read_file(o.demo_dir + "/demo.json");
  if (!text) {
    std::cerr << "fapigate client: cannot read " << o.demo_dir << "/demo.json (is the demo running?)\n";
    return false;
  }
  auto doc = core::parse_json_object(*text, core::JsonLimits{1 << 20, 8});
  if (!doc) {
    std::cerr << "fapigate client: " << o.demo_dir << "/demo.json is not valid JSON\n";
    return false;
  }
  auto str = [&](const boost::json::object& obj, const char* k) {
    return std::string(core::get_string(obj, k).value_or(""));
  };
  const auto* partner = core::get_object(*doc, "partner");
  if (!partner) {
    std::cerr << "fapigate client: demo.json has no partner\n";
    return false;
  }
  if (o.token_url.empty()) o.token_url = str(*doc, "token_endpoint");
  if (o.api_url.empty()) o.api_url = str(*doc, "gateway_url") + "/domestic-payments";
  if (o.client_id.empty()) o.client_id = str(*partner, "client_id");
  if (o.cert_file.empty()) o.cert_file = str(*partner, "cert_file");
  if (o.key_file.empty()) o.key_file = str(*partner, "key_file");
  if (o.ca_file.empty()) o.ca_file = str(*doc, "ca_file");
  return true;
}

void print_claims(const std::string& token) {
  auto parts = core::split(token, '.');
  if (parts.size() != 3) {
    return;
  }
  if (auto payload = core::base64url_decode(parts[1])) {
    std::cout << "  claims: " << *payload << "\n";
  }
}

}  // namespace

int run_client(const ClientOptions& in) {
  ClientOptions o = in;
  if (!o.demo_dir.empty() && !fill_from_demo(o)) {
    return 2;
  }
  if (o.token_url.empty() || o.api_url.empty() || o.client_id.empty() || o.cert_file.empty() ||
      o.key_file.empty()) {
    std::cerr << "fapigate client: give --demo-dir, or --token-url, --api-url, --client-id, "
                 "--cert and --key\n";
    return 2;
  }

  if (auto pem = read_file(o.cert_file)) {
    if (auto cert = crypto::parse_certificate_pem(*pem)) {
      std::cout << "certificate: " << cert->subject_dn << "\n  x5t#S256: " << crypto::x5t_s256(cert->der)
                << "\n";
    }
  }

  http::ClientOptions tls;
  tls.ca_file = o.ca_file;
  tls.client_cert_file = o.cert_file;
  tls.client_key_file = o.key_file;

  std::cout << "1. token request: POST " << o.token_url << " (client_credentials, tls_client_auth, scope "
            << o.scope << ")\n";
  http::ClientRequest token_req;
  token_req.method = "POST";
  token_req.url = o.token_url;
  token_req.headers.add("Content-Type", "application/x-www-form-urlencoded");
  token_req.body = core::form_encode(
      {{"grant_type", "client_credentials"}, {"client_id", o.client_id}, {"scope", o.scope}});
  auto token_resp = http::send_sync(tls, token_req);
  if (!token_resp) {
    std::cout << "  failed: " << token_resp.error().message() << "\n";
    return 1;
  }
  std::cout << "  HTTP " << token_resp->status << "\n";
  auto body = core::parse_json_object(token_resp->body, core::JsonLimits{1 << 20, 8});
  if (token_resp->status != 200 || !body || !core::get_string(*body, "access_token")) {
    std::cout << "  body: " << token_resp->body << "\n";
    return 1;
  }
  std::string token(*core::get_string(*body, "access_token"));
  std::cout << "  access token sha256 prefix: " << crypto::fingerprint(token) << "\n";
  print_claims(token);

  http::ClientOptions api_tls = tls;
  if (!o.api_cert_file.empty()) {
    api_tls.client_cert_file = o.api_cert_file;
    api_tls.client_key_file = o.api_key_file;
    std::cout << "   (calling the API with another certificate: " << o.api_cert_file << ")\n";
  }
  std::cout << "2. API call: " << o.method << " " << o.api_url << "\n";
  http::ClientRequest api_req;
  api_req.method = o.method;
  api_req.url = o.api_url;
  api_req.headers.add("Authorization", "Bearer " + token);
  api_req.headers.add("x-fapi-interaction-id", crypto::uuid_v4());
  if (o.method == "POST" || o.method == "PUT") {
    api_req.headers.add("Content-Type", "application/json");
    api_req.body = o.body;
  }
  auto api_resp = http::send_sync(api_tls, api_req);
  if (!api_resp) {
    std::cout << "  failed: " << api_resp.error().message() << "\n";
    return 1;
  }
  std::cout << "  HTTP " << api_resp->status << "\n";
  if (auto w = api_resp->headers.get("WWW-Authenticate")) {
    std::cout << "  WWW-Authenticate: " << *w << "\n";
  }
  if (auto id = api_resp->headers.get("x-fapi-interaction-id")) {
    std::cout << "  x-fapi-interaction-id: " << *id << "\n";
  }
  std::cout << "  body: " << api_resp->body << "\n";
  return api_resp->status >= 200 && api_resp->status < 300 ? 0 : 1;
}

}  // namespace fapigate::cli
