#include "as/checks/client_auth.hpp"

#include "as/client_policy.hpp"

#include <algorithm>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"

namespace fapigate::as {
namespace {

constexpr std::size_t kMaxClientIdBytes = 256;

bool contains(const std::vector<std::string>& values, const std::string& wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

OAuthError refused(std::string description, std::string detail) {
  return oauth_error(OAuthErrc::InvalidClient, std::move(description), std::move(detail));
}

const std::string* param(const Form& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? nullptr : &it->second;
}

// The replay-cache key of an assertion: namespaced, per client, hashed (bounded, no client
// data stored in clear). The length prefix keeps (client, jti) pairs from colliding.
std::string replay_key(const std::string& client_id, const std::string& jti) {
  return "client_assertion:" +
         crypto::sha256_b64url(std::to_string(client_id.size()) + ":" + client_id + jti);
}

// ctx is null for the legacy overload: then private_key_jwt is refused.
OAuthResult<store::ClientRecord> authenticate(const AsContext* ctx, const http::Request& request,
                                              const Form& form, store::ClientStore& clients) {
  // RFC 6749 §2.3 / FAPI: one method per client, and client secrets are not among them.
  if (form.count("client_secret") || request.headers.get("Authorization")) {
    return refused("client authentication method not allowed",
                   "client_secret or Authorization header presented");
  }
  const std::string* client_id = param(form, "client_id");
  if (client_id && (client_id->empty() || client_id->size() > kMaxClientIdBytes)) {
    return refused(client_id->empty() ? "client_id is required" : "client authentication failed",
                   client_id->empty() ? "empty client_id" : "client_id too long");
  }
  const std::string* assertion = param(form, "client_assertion");
  const std::string* assertion_type = param(form, "client_assertion_type");
  const bool uses_assertion = assertion != nullptr || assertion_type != nullptr;

  std::string id;
  if (uses_assertion) {
    // RFC 7521 §4.2: both parameters, the type being the JWT bearer URN (RFC 7523 §2.2).
    if (!assertion || assertion->empty()) {
      return refused("client_assertion is required", "client_assertion_type without assertion");
    }
    if (!assertion_type || *assertion_type != kJwtBearerAssertionType) {
      return refused("client_assertion_type must be " + std::string(kJwtBearerAssertionType),
                     "missing or unsupported client_assertion_type");
    }
    auto iss = assertion_issuer_unverified(*assertion);
    if (!iss) {
      return iss.error();
    }
    // RFC 7523 §3 / OIDC Core §9: client_id is optional, but when sent it is the assertion's iss.
    if (client_id && *client_id != *iss) {
      return refused("client_id does not match the client assertion",
                     "client_id " + *client_id + " but assertion iss differs");
    }
    id = client_id ? *client_id : *iss;
    if (id.empty() || id.size() > kMaxClientIdBytes) {
      return refused("the client assertion's iss must be the client_id",
                     "assertion without a usable iss");
    }
  } else if (!client_id) {
    // RFC 8705 §2: the client_id parameter identifies a mTLS client.
    return refused("client_id is required", "no client_id parameter");
  } else {
    id = *client_id;
  }

  auto found = ctx != nullptr ? ctx->find_client(id) : clients.find_client(id);
  if (!found) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "client lookup failed: " + found.error().message());
  }
  if (!*found) {
    return refused("client authentication failed", "unknown client_id " + id);
  }
  store::ClientRecord& client = **found;
  const std::string& method = client.token_endpoint_auth_method;

  if (method == "private_key_jwt") {
    if (!uses_assertion) {
      // OIDC Core §9 (N-55): a certificate alone does not authenticate this client.
      return refused("client_assertion is required for this client",
                     client.client_id + " is registered for private_key_jwt; no assertion");
    }
    if (ctx == nullptr) {
      return refused("client authentication failed",
                     "private_key_jwt is not available at this endpoint");
    }
    const AssertionPolicy policy = assertion_policy(*ctx, request, client);
    auto verified = verify_client_assertion(*assertion, client, policy);
    if (!verified) {
      return verified.error();
    }
    // RFC 7523 §3 item 7: one use per jti, remembered (durably) past the assertion's exp.
    auto first = ctx->store->remember_once(replay_key(client.client_id, verified->jti),
                                           verified->exp + policy.skew_seconds, policy.now);
    if (!first) {
      return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                         "replay cache failed: " + first.error().message());
    }
    if (!*first) {
      return refused("the client assertion was already used",
                     "replayed client_assertion jti " + verified->jti + " of " + client.client_id);
    }
    return std::move(client);
  }

  if (uses_assertion) {
    return refused("client authentication method not allowed",
                   client.client_id + " is registered for " + method +
                       "; a client_assertion was sent");
  }
  if (!request.peer_certificate) {
    // RFC 8705 §2: without a client certificate on this connection there is nothing to
    // authenticate with. Clients reach the mTLS aliases (mtls_endpoint_aliases) for this.
    return refused("a client certificate is required: use the mtls_endpoint_aliases",
                   "no client certificate");
  }
  const http::PeerCertificate& cert = *request.peer_certificate;
  if (method == "tls_client_auth") {
    // RFC 8705 §2.1: PKI method; the chain to a trusted CA is part of the proof.
    if (!cert.chain_verified) {
      return refused("client authentication failed",
                     "certificate of " + client.client_id + " does not chain to the client CA");
    }
    if (!certificate_matches_client(cert, client)) {
      return refused("client authentication failed",
                     "certificate does not match the registration of " + client.client_id +
                         " (subject " + cert.subject_dn + ")");
    }
    return std::move(client);
  }
  if (method == "self_signed_tls_client_auth") {
    if (!certificate_matches_jwks(cert, client)) {
      return refused("client authentication failed",
                     "certificate " + cert.x5t_s256.substr(0, 12) +
                         " is not registered for " + client.client_id);
    }
    return std::move(client);
  }
  return refused("client authentication failed",
                 "registered method " + method + " is not supported");
}

}  // namespace

const std::vector<std::string>& supported_client_auth_methods() {
  static const std::vector<std::string> methods{"private_key_jwt", "tls_client_auth",
                                                "self_signed_tls_client_auth"};
  return methods;
}

AssertionPolicy assertion_policy(const AsContext& ctx, const http::Request& request,
                                 const store::ClientRecord& client) {
  const auto& s = ctx.settings;
  AssertionPolicy p;
  p.now = ctx.clock->now();
  // FAPI 2.0 SP §5.3.2.1-8: the issuer identifier, and nothing else.
  p.audiences.push_back(s.issuer);
  if (s.client_assertion_audience == config::ClientAssertionAudience::IssuerOrEndpoint &&
      client_policy(client, s).profile == FapiProfile::Fapi1Advanced) {
    // RFC 7523 §3 / RFC 9126 §2 (FAPI 1.0): the token endpoint URL, or the URL of the endpoint
    // the assertion is sent to, front or mTLS alias; an array holding one of them too.
    p.aud_string_only = false;
    const std::string& mtls = s.mtls_base_url.empty() ? s.issuer : s.mtls_base_url;
    for (const std::string& base : {s.issuer, mtls}) {
      for (const std::string& path : {std::string("/token"), request.path}) {
        std::string url = base + path;
        if (!contains(p.audiences, url)) {
          p.audiences.push_back(std::move(url));
        }
      }
    }
  }
  return p;
}

bool certificate_matches_client(const http::PeerCertificate& cert,
                                const store::ClientRecord& client) {
  // RFC 8705 §2.1.2: the client registers one of these, and that one must match.
  if (!client.tls_client_auth_subject_dn.empty()) {
    return crypto::subject_dn_equal(cert.subject_dn, client.tls_client_auth_subject_dn);
  }
  if (!client.tls_client_auth_san_dns.empty()) {
    return contains(cert.san_dns, client.tls_client_auth_san_dns);
  }
  if (!client.tls_client_auth_san_uri.empty()) {
    return contains(cert.san_uri, client.tls_client_auth_san_uri);
  }
  if (!client.tls_client_auth_san_ip.empty()) {
    return contains(cert.san_ip, client.tls_client_auth_san_ip);
  }
  if (!client.tls_client_auth_san_email.empty()) {
    return contains(cert.san_email, client.tls_client_auth_san_email);
  }
  return false;
}

bool certificate_matches_jwks(const http::PeerCertificate& cert,
                              const store::ClientRecord& client) {
  if (client.jwks_json.empty() || cert.der.empty()) {
    return false;
  }
  auto jwks = parse_client_jwks(client.jwks_json);
  if (!jwks) {
    return false;
  }
  std::optional<crypto::Certificate> parsed;
  for (const auto& jwk : jwks->keys) {
    if (jwk.use == "enc") {
      continue;
    }
    if (!jwk.x5c.empty()) {
      // The registered certificate itself (RFC 7517 §4.7: x5c[0] holds this key).
      auto der = core::base64_decode(jwk.x5c.front());
      if (der && *der == cert.der) {
        return true;
      }
      continue;
    }
    // A bare key: the handshake proved the client holds its private half.
    if (!parsed) {
      auto c = crypto::parse_certificate_der(cert.der);
      if (!c || !c->public_key.valid()) {
        return false;
      }
      parsed = std::move(*c);
    }
    if (parsed->public_key.same_public_key(jwk.key)) {
      return true;
    }
  }
  return false;
}

OAuthResult<store::ClientRecord> authenticate_client(const AsContext& ctx,
                                                     const http::Request& request,
                                                     const Form& form) {
  return authenticate(&ctx, request, form, *ctx.store);
}

OAuthResult<store::ClientRecord> authenticate_client(const http::Request& request,
                                                     const Form& form,
                                                     store::ClientStore& clients) {
  return authenticate(nullptr, request, form, clients);
}

}  // namespace fapigate::as
