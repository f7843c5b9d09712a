#include "as/client_policy.hpp"

#include <boost/json/serialize.hpp>

#include "core/json.hpp"

namespace fapigate::as {

ClientPolicy client_policy(const store::ClientRecord& client,
                           const config::AuthorizationServer& as) {
  ClientPolicy p;
  boost::json::object meta;
  if (!client.metadata_json.empty()) {
    // Stored metadata is ours, written by registration from a body of up to 64 KiB that can
    // serialise larger (0.11 becomes 1.1E-1); the default 64 KiB bound silently dropped such a
    // client's profile and algorithms to the defaults (flagged by fuzz_dcr_metadata). The
    // bound of the RFC 7592 read (registration.cpp client_information) covers it.
    if (auto parsed = core::parse_json_object(client.metadata_json,
                                              core::JsonLimits{256 * 1024, 16})) {
      meta = std::move(*parsed);
    }
  }
  if (auto v = core::get_string(meta, "fapi_profile"); v && *v == "fapi1_advanced") {
    p.profile = FapiProfile::Fapi1Advanced;
  }
  if (const auto* rt = meta.if_contains("response_types"); rt && rt->is_array()) {
    for (const auto& item : rt->get_array()) {
      if (item.is_string()) {
        p.response_types.emplace_back(item.get_string());
      }
    }
  }
  if (p.response_types.empty()) {
    p.response_types = p.profile == FapiProfile::Fapi2
                           ? std::vector<std::string>{"code"}
                           : std::vector<std::string>{"code id_token", "code"};
  }
  auto string_or = [&](std::string_view key, const std::string& fallback) {
    auto v = core::get_string(meta, key);
    return v && !v->empty() ? std::string(*v) : fallback;
  };
  p.id_token_signed_response_alg = string_or("id_token_signed_response_alg", as.signing_alg);
  p.authorization_signed_response_alg =
      string_or("authorization_signed_response_alg", as.signing_alg);
  p.request_object_signing_alg = string_or("request_object_signing_alg", "");
  p.id_token_encrypted_response_alg = string_or("id_token_encrypted_response_alg", "");
  if (!p.id_token_encrypted_response_alg.empty()) {
    p.id_token_encrypted_response_enc = string_or("id_token_encrypted_response_enc", "");
  }
  if (const auto* v = meta.if_contains("require_pushed_authorization_requests");
      v && v->is_bool()) {
    p.require_pushed_authorization_requests = v->get_bool();
  }
  if (const auto* v = meta.if_contains("refresh_token_rotation"); v && v->is_bool()) {
    p.refresh_token_rotation = v->get_bool();
  }
  if (p.profile == FapiProfile::Fapi2) {
    // FAPI 2.0 SP §5.3.2.2-3 (PAR only) and §5.3.2.1-9 (no refresh-token rotation).
    p.require_pushed_authorization_requests = true;
    p.refresh_token_rotation = false;
  }
  return p;
}

std::string client_metadata_json(const config::ClientRegistration& r) {
  boost::json::object o;
  o["fapi_profile"] = r.profile;
  if (!r.response_types.empty()) {
    boost::json::array a;
    for (const auto& t : r.response_types) {
      a.emplace_back(t);
    }
    o["response_types"] = std::move(a);
  }
  if (!r.id_token_signed_response_alg.empty()) {
    o["id_token_signed_response_alg"] = r.id_token_signed_response_alg;
  }
  if (!r.authorization_signed_response_alg.empty()) {
    o["authorization_signed_response_alg"] = r.authorization_signed_response_alg;
  }
  if (!r.request_object_signing_alg.empty()) {
    o["request_object_signing_alg"] = r.request_object_signing_alg;
  }
  if (!r.id_token_encrypted_response_alg.empty()) {
    o["id_token_encrypted_response_alg"] = r.id_token_encrypted_response_alg;
    if (!r.id_token_encrypted_response_enc.empty()) {
      o["id_token_encrypted_response_enc"] = r.id_token_encrypted_response_enc;
    }
  }
  o["require_pushed_authorization_requests"] = r.require_pushed_authorization_requests;
  o["refresh_token_rotation"] = r.refresh_token_rotation;
  return boost::json::serialize(o);
}

}  // namespace fapigate::as
