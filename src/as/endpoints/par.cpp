// Pushed authorization requests (RFC 9126). The whole request is validated here, up front, so
// the authorization endpoint later only looks it up: client authentication as at the token
// endpoint (§2), the signed request object when sent or required (§3; FAPI 1.0 Part 2
// §5.2.2-1, F2MS 5.3.1-1), then validate_authorization_request. Served on the front listener
// (private_key_jwt clients, the pushed_authorization_request_endpoint) and on the mTLS alias
// (every client; the only one where a certificate can authenticate a client or bind the code,
// RFC 8705 §5).
#include "as/authz_request.hpp"
#include "as/checks/request_object.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/endpoints/front_channel.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"

#include <boost/json/serialize.hpp>

namespace fapigate::as {
namespace {

http::Response refuse(const OAuthError& e, const std::string& client_id) {
  auto level = e.code == OAuthErrc::ServerError ? core::log::Level::Error : core::log::Level::Warn;
  core::log::write(level, "par_refused",
                   {{"error", std::string(errc_name(e.code))},
                    {"client_id", client_id},
                    {"detail", e.detail.empty() ? e.description : e.detail}});
  return to_response(e);
}

}  // namespace

std::string request_uri_hash(std::string_view request_uri) {
  return crypto::sha256_b64url(request_uri);
}

OAuthResult<AuthorizationRequest> authorization_request_from_object(
    const AsContext& ctx, const store::ClientRecord& client, const ClientPolicy& policy,
    std::string_view request_object) {
  RequestObjectPolicy rp;
  rp.issuer = ctx.settings.issuer;
  rp.now = ctx.clock->now();
  if (!policy.request_object_signing_alg.empty()) {
    rp.required_alg = jose::parse_alg(policy.request_object_signing_alg);
  }
  auto claims = verify_request_object(request_object, client, rp);
  if (!claims) {
    return claims.error();
  }
  // Only the parameters inside the object count (FAPI 1.0 Part 2 §5.2.2-10, RFC 9101 §6.3).
  return validate_authorization_request(client, policy, params_of_claims(*claims), true);
}

http::Response par_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return refuse(form.error(), {});
  }
  auto client = authenticate_client(ctx, request, *form);
  if (!client) {
    return refuse(client.error(), {});
  }
  const std::string& id = client->client_id;
  if (std::find(client->grant_types.begin(), client->grant_types.end(), "authorization_code") ==
      client->grant_types.end()) {
    return refuse(oauth_error(OAuthErrc::UnauthorizedClient,
                              "the client is not allowed to use the authorization code flow"),
                  id);
  }
  if (form->count("request_uri")) {
    // RFC 9126 §2.1.
    return refuse(oauth_error(OAuthErrc::InvalidRequest,
                              "request_uri must not be sent to the pushed authorization endpoint"),
                  id);
  }
  const ClientPolicy policy = client_policy(*client, ctx.settings);
  OAuthResult<AuthorizationRequest> authz = oauth_error(OAuthErrc::ServerError, "");
  if (auto obj = form->find("request"); obj != form->end()) {
    authz = authorization_request_from_object(ctx, *client, policy, obj->second);
  } else if (policy.profile == FapiProfile::Fapi1Advanced) {
    // FAPI 1.0 Part 2 §5.2.2-1: a signed request object, pushed or not.
    return refuse(oauth_error(OAuthErrc::InvalidRequest, "a signed request object is required"),
                  id);
  } else if (!policy.request_object_signing_alg.empty()) {
    // F2MS 5.3.1-1: a client registered for signed requests must sign them (N-25).
    return refuse(oauth_error(OAuthErrc::InvalidRequest, "a signed request object is required"),
                  id);
  } else {
    RequestParams params(form->begin(), form->end());
    for (const char* auth : {"client_id", "client_assertion", "client_assertion_type"}) {
      params.erase(auth);
    }
    authz = validate_authorization_request(*client, policy, params, false);
  }
  if (!authz) {
    return refuse(authz.error(), id);
  }

  const std::int64_t now = ctx.clock->now();
  const std::string request_uri = std::string(kRequestUriPrefix) + crypto::random_token(32);
  store::PushedRequestRecord rec;
  rec.request_uri_hash = request_uri_hash(request_uri);
  rec.client_id = id;
  rec.params_json = boost::json::serialize(authz->to_json());
  // The certificate of this connection binds the code (and so the tokens) to it.
  if (request.peer_certificate) {
    rec.cnf_x5t_s256 = request.peer_certificate->x5t_s256;
  }
  rec.created_at = now;
  rec.expires_at = now + kPushedRequestLifetime;
  if (auto put = ctx.store->put_pushed_request(rec); !put) {
    return refuse(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                              "put_pushed_request: " + put.error().message()),
                  id);
  }
  core::log::info("par_accepted", {{"client_id", id},
                                   {"request_uri", crypto::fingerprint(request_uri)},
                                   {"signed", authz->signed_request}});
  boost::json::object body;
  body["request_uri"] = request_uri;
  body["expires_in"] = kPushedRequestLifetime;
  auto r = http::Response::json(201, boost::json::serialize(body));
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  return r;
}

}  // namespace fapigate::as
