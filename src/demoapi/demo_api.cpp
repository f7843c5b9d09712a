#include "demoapi/demo_api.hpp"

#include <atomic>

#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"

namespace fapigate::demoapi {
namespace {

// The payload of the JWT the gateway forwarded. The gateway has verified it; the demo API
// only reads it (a real upstream would verify again or trust the gateway's network).
boost::json::object caller_claims(const http::Request& req) {
  auto auth = req.headers.get("Authorization");
  if (!auth) {
    return {};
  }
  auto parts = core::split(*auth, '.');
  if (parts.size() != 3) {
    return {};
  }
  auto payload = core::base64url_decode(parts[1]);
  if (!payload) {
    return {};
  }
  auto claims = core::parse_json_object(*payload, core::JsonLimits{16 * 1024, 8});
  if (!claims) {
    return {};
  }
  // An opaque (phantom) token reaches the API as the issuer's RFC 9701 introspection JWT: the
  // token's claims sit in its token_introspection member.
  if (const auto* intro = core::get_object(*claims, "token_introspection")) {
    return *intro;
  }
  return std::move(*claims);
}

// "jwt" when the Authorization header carries a compact JWS, "other" for anything else (an
// opaque token must never get this far), "" when absent: tests assert what the gateway forwards.
std::string authorization_kind(const http::Request& req) {
  auto auth = req.headers.get("Authorization");
  if (!auth) {
    return {};
  }
  return core::split(*auth, '.').size() == 3 ? "jwt" : "other";
}

std::string forwarded_cert_thumbprint(const http::Request& req) {
  auto v = req.headers.get("Client-Cert");
  if (!v || v->size() < 2 || v->front() != ':' || v->back() != ':') {
    return {};
  }
  auto der = core::base64_decode(v->substr(1, v->size() - 2));
  return der ? crypto::sha256_b64url(*der) : std::string();
}

// RFC 9440 §2.3 Client-Cert-Chain: the thumbprint of each intermediate the gateway forwarded,
// in order (at most 8, as many as the gateway ever sends).
boost::json::array forwarded_chain_thumbprints(const http::Request& req) {
  boost::json::array out;
  auto v = req.headers.get("Client-Cert-Chain");
  if (!v) {
    return out;
  }
  for (auto item : core::split(*v, ',')) {
    item = core::trim(item);
    if (out.size() == 8 || item.size() < 2 || item.front() != ':' || item.back() != ':') {
      break;
    }
    auto der = core::base64_decode(item.substr(1, item.size() - 2));
    if (!der) {
      break;
    }
    out.emplace_back(crypto::sha256_b64url(*der));
  }
  return out;
}

boost::json::object caller(const http::Request& req) {
  auto claims = caller_claims(req);
  boost::json::object who;
  who["iss"] = core::get_string(claims, "iss").value_or("");
  who["sub"] = core::get_string(claims, "sub").value_or("");
  who["client_id"] = core::get_string(claims, "client_id").value_or("");
  who["scope"] = core::get_string(claims, "scope").value_or("");
  who["certificate_thumbprint"] = forwarded_cert_thumbprint(req);
  who["certificate_chain_thumbprints"] = forwarded_chain_thumbprints(req);
  who["authorization"] = authorization_kind(req);
  if (auto user = req.headers.get("X-User")) {
    who["x_user"] = std::string(*user);  // a claim header configured on the gateway route
  }
  if (auto aud = core::get_string(claims, "aud")) {
    who["aud"] = std::string(*aud);  // a single audience (a gateway-signed upstream token's)
  }
  if (const auto* cnf = core::get_object(claims, "cnf")) {
    who["token_cnf_x5t#S256"] = core::get_string(*cnf, "x5t#S256").value_or("");
  }
  return who;
}

http::Response with_id(http::Response r, const http::Request& req) {
  if (auto id = req.headers.get("x-fapi-interaction-id")) {
    r.headers.add("x-fapi-interaction-id", std::string(*id));
  }
  return r;
}

class DemoApi final : public http::Handler {
public:
  void handle(http::Request req, http::Responder respond) override {
    respond(with_id(dispatch(req), req));
  }

private:
  http::Response dispatch(const http::Request& req) {
    if (req.path == "/accounts") {
      if (req.method != "GET") {
        return http::Response::json(405, R"({"error":"method_not_allowed"})");
      }
      boost::json::object body;
      body["accounts"] = boost::json::array{
          boost::json::object{{"account_id", "acc-001"}, {"currency", "EUR"},
                              {"nickname", "Current account"}, {"balance", "1234.56"}},
          boost::json::object{{"account_id", "acc-002"}, {"currency", "EUR"},
                              {"nickname", "Savings"}, {"balance", "9876.00"}}};
      body["caller"] = caller(req);
      return http::Response::json(200, boost::json::serialize(body));
    }
    if (req.path == "/domestic-payments") {
      if (req.method != "POST") {
        return http::Response::json(405, R"({"error":"method_not_allowed"})");
      }
      boost::json::object body;
      if (!req.body.empty()) {
        auto initiation = core::parse_json_object(req.body, core::JsonLimits{16 * 1024, 8});
        if (!initiation) {
          return http::Response::json(
              400, R"({"error":"invalid_request","error_description":"the body must be a JSON object"})");
        }
        body["initiation"] = std::move(*initiation);
      }
      body["payment_id"] = "pmt-" + std::to_string(++payments_);
      body["status"] = "AcceptedSettlementInProcess";
      body["caller"] = caller(req);
      return http::Response::json(200, boost::json::serialize(body));
    }
    return http::Response::json(404, R"({"error":"not_found"})");
  }

  std::atomic<unsigned long> payments_{0};
};

}  // namespace

std::shared_ptr<http::Handler> make_demo_api() { return std::make_shared<DemoApi>(); }

}  // namespace fapigate::demoapi
