// The authorization code flow's front channel: the pushed authorization request endpoint
// (par.cpp) and the browser endpoints (authorize.cpp): /authorize with its login and consent
// pages, and /consents where a user sees and withdraws consents. Shared names live here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "as/as_context.hpp"
#include "as/authz_request.hpp"
#include "as/client_policy.hpp"
#include "http/message.hpp"

namespace fapigate::as {

// RFC 9126 §2.2.
inline constexpr std::string_view kRequestUriPrefix = "urn:ietf:params:oauth:request_uri:";
// expires_in of a pushed request: below 600 s (FAPI 2.0 SP §5.3.2.2-12), long enough for a
// person to log in and consent (it is consumed only when they finish).
inline constexpr std::int64_t kPushedRequestLifetime = 120;
// FAPI 2.0 SP §5.3.2.1-11: an authorization code lives at most 60 s.
inline constexpr std::int64_t kAuthorizationCodeLifetime = 60;
// JARM §2.1: the response JWT is short-lived.
inline constexpr std::int64_t kJarmLifetime = 120;
// A logged-in browser session.
inline constexpr std::int64_t kBrowserSessionLifetime = 30 * 60;
// The session cookie: __Host- (RFC 6265bis §4.1.3.2) pins it to this origin, Secure, Path=/.
inline constexpr std::string_view kSessionCookie = "__Host-fapigate-session";

// POST /par (RFC 9126 §2): 201 {request_uri, expires_in}, or an RFC 6749 §5.2 JSON error.
http::Response par_endpoint(const AsContext& ctx, const http::Request& request);

// True for the paths served by front_channel_endpoint.
bool is_front_channel_path(std::string_view path);
// /authorize (GET, POST), /authorize/login (POST), /authorize/consent (POST), /consents (GET),
// /consents/withdraw (POST). Anything else on these paths: 405.
http::Response front_channel_endpoint(const AsContext& ctx, const http::Request& request);

// base64url(SHA-256(request_uri)): the store key of a pushed request.
std::string request_uri_hash(std::string_view request_uri);

// A request object (by value at PAR or /authorize) verified and validated for `client`.
[[nodiscard]] OAuthResult<AuthorizationRequest> authorization_request_from_object(
    const AsContext& ctx, const store::ClientRecord& client, const ClientPolicy& policy,
    std::string_view request_object);

// The CSRF token of a browser: bound to its session cookie value (a keyed digest of it), so a
// page of another site cannot know it. Compared in constant time.
std::string csrf_token_for(std::string_view session_cookie);

}  // namespace fapigate::as
