#include "gateway/gw_errc.hpp"

#include <array>

namespace fapigate::gw {
namespace {

// Indexed by GwErrc value; order must follow the enum.
constexpr std::array<Refusal, 28> kRefusals{{
    {500, "", "internal error", "internal"},
    {401, "", "", "token_missing"},
    {400, "invalid_request", "access tokens are accepted only in the Authorization header",
     "token_in_query"},
    {400, "invalid_request", "malformed Authorization header", "authorization_invalid"},
    {401, "invalid_token", "the access token is malformed", "token_malformed"},
    {401, "invalid_token", "the access token algorithm is not allowed", "alg_not_allowed"},
    {401, "invalid_token", "the token is not an access token (typ must be at+jwt)",
     "typ_mismatch"},
    {401, "invalid_token", "the token issuer is not trusted here", "issuer_unknown"},
    {401, "invalid_token", "the issuer's keys are unavailable", "keys_unavailable"},
    {401, "invalid_token", "the token signing key is unknown", "kid_not_found"},
    {401, "invalid_token", "the token signature is invalid", "bad_signature"},
    {401, "invalid_token", "the token audience does not include this API", "audience_mismatch"},
    {401, "invalid_token", "the access token expired", "expired"},
    {401, "invalid_token", "the access token is not yet valid", "not_yet_valid"},
    {401, "invalid_token", "the access token has an invalid claim", "claim_invalid"},
    {401, "invalid_token", "the access token is not bound to a certificate", "cnf_missing"},
    {401, "invalid_token", "the access token is bound to a certificate; present it",
     "certificate_missing"},
    {401, "invalid_token", "the access token is bound to another certificate", "cnf_mismatch"},
    {403, "insufficient_scope", "the access token lacks a required scope", "insufficient_scope"},
    {404, "", "no such resource", "no_route"},
    {405, "", "method not allowed", "method_not_allowed"},
    {400, "invalid_request", "the request path is not allowed", "path_invalid"},
    {502, "", "the upstream service is unavailable", "upstream_unavailable"},
    {504, "", "the upstream service did not answer in time", "upstream_timeout"},
    {421, "", "the request's Host does not match the TLS server name", "misdirected_request"},
    {400, "invalid_request", "malformed Client-Cert header", "client_cert_invalid"},
    {401, "invalid_token", "the access token is not active", "token_inactive"},
    // RFC 6750 §3.1 has no error code for "cannot check right now"; 503 tells the client to
    // retry rather than to fetch a new token.
    {503, "", "the token issuer cannot be reached", "introspection_unavailable"},
}};
static_assert(kRefusals.size() == kGwErrcEnd, "one refusal per GwErrc value, in enum order");

class GwCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.gateway"; }
  std::string message(int ev) const override {
    return std::string(refusal_for(static_cast<GwErrc>(ev)).label);
  }
};
const GwCategory kCategory;

}  // namespace

ErrorCode make_error_code(GwErrc e) { return {static_cast<int>(e), kCategory}; }

const Refusal& refusal_for(GwErrc e) {
  auto i = static_cast<std::size_t>(e);
  return i < kRefusals.size() ? kRefusals[i] : kRefusals[0];
}

}  // namespace fapigate::gw
