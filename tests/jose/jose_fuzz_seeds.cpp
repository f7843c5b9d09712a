// Writes the seed corpora of the jose/ and as/ fuzz targets (tests/fuzz/corpus/<target>/):
// valid inputs signed with the fixed test keys of fuzz_keys.hpp and the known attacks, one file
// each, named after what it tries. Run it again only when those keys or the targets' input
// formats change:
//   build-asan/tests/jose/jose_fuzz_seeds tests/fuzz/corpus
// Files starting with '{' in the request_object, client_assertion and software_statement
// corpora are claims sets the targets sign themselves (as_fuzz_common.hpp, "sign mode").
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "crypto/signature.hpp"
#include "jose/fuzz_keys.hpp"
#include "jose/jws.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;
using fuzz::FuzzKeys;
using fuzz::kNow;
namespace json = boost::json;

std::filesystem::path g_root;

void put(std::string_view target, std::string_view name, std::string_view bytes) {
  const auto dir = g_root / std::string(target);
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / std::string(name), std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string b64(std::string_view s) {
  return core::base64url_encode(s);
}

// A token with a hand-written header, signed by `key` with `alg` (which may not fit the header).
std::string raw_token(std::string_view header, std::string_view payload, const Jwk& key, Alg alg) {
  std::string input = b64(header) + "." + b64(payload);
  auto sig = crypto::sign(alg, key.key, input);
  return input + "." + b64(sig ? *sig : std::string("x"));
}

std::string text(const json::object& o) {
  return json::serialize(o);
}

void jws_compact(const FuzzKeys& k) {
  const std::string payload = R"({"iss":"fuzz","sub":"seed","exp":1700000600})";
  put("jws_compact", "ok_ps256_kid", fuzz::sign_with(k.client_ps256, payload));
  put("jws_compact", "ok_es256_kid", fuzz::sign_with(k.client_es256, payload));
  put("jws_compact", "ok_eddsa_kid", fuzz::sign_with(k.client_eddsa, payload, "JWT"));
  put("jws_compact", "ok_eddsa_no_kid",
      raw_token(R"({"alg":"EdDSA"})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "ok_empty_payload", fuzz::sign_with(k.client_es256, ""));
  put("jws_compact", "ok_duplicate_alg_last_wins",
      raw_token(R"({"alg":"none","alg":"EdDSA","kid":"fuzz-eddsa"})", payload, k.client_eddsa,
                Alg::EdDSA));
  put("jws_compact", "other_key_same_kid",
      raw_token(R"({"alg":"EdDSA","kid":"fuzz-eddsa"})", payload, k.other_eddsa, Alg::EdDSA));
  put("jws_compact", "other_key_unknown_kid", fuzz::sign_with(k.other_es256, payload));
  put("jws_compact", "alg_kty_mismatch_es256_on_rsa_kid",
      raw_token(R"({"alg":"ES256","kid":"fuzz-ps256"})", payload, k.client_es256, Alg::ES256));
  put("jws_compact", "alg_none", b64(R"({"alg":"none"})") + "." + b64(payload) + ".");
  put("jws_compact", "alg_none_with_signature",
      b64(R"({"alg":"none"})") + "." + b64(payload) + "." + b64("sig"));
  put("jws_compact", "alg_hs256_public_key_as_secret",
      b64(R"({"alg":"HS256","kid":"fuzz-ps256"})") + "." + b64(payload) + "." +
          b64("0123456789abcdef0123456789abcdef"));
  put("jws_compact", "alg_rs256",
      b64(R"({"alg":"RS256","kid":"fuzz-ps256"})") + "." + b64(payload) + "." + b64("sig"));
  put("jws_compact", "alg_lowercase",
      raw_token(R"({"alg":"eddsa"})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "alg_missing",
      raw_token(R"({"kid":"fuzz-eddsa"})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "alg_not_string",
      raw_token(R"({"alg":["EdDSA"]})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "crit_unknown",
      raw_token(R"({"alg":"EdDSA","crit":["exp"],"exp":1})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "crit_empty",
      raw_token(R"({"alg":"EdDSA","crit":[]})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "b64_false",
      raw_token(R"({"alg":"EdDSA","b64":false,"crit":["b64"]})", payload, k.client_eddsa,
                Alg::EdDSA));
  put("jws_compact", "b64_false_no_crit",
      raw_token(R"({"alg":"EdDSA","b64":false})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "embedded_jwk_header",
      raw_token(std::string(R"({"alg":"EdDSA","jwk":)") +
                    to_json_string(make_jwk(k.other_eddsa.key.public_only(), "", std::nullopt)) +
                    "}",
                payload, k.other_eddsa, Alg::EdDSA));
  put("jws_compact", "jku_header",
      raw_token(R"({"alg":"ES256","jku":"https://attacker.example/jwks"})", payload, k.other_es256,
                Alg::ES256));
  put("jws_compact", "kid_not_string",
      raw_token(R"({"alg":"EdDSA","kid":7})", payload, k.client_eddsa, Alg::EdDSA));
  put("jws_compact", "kid_path_traversal",
      raw_token(R"({"alg":"EdDSA","kid":"../../etc/passwd"})", payload, k.client_eddsa,
                Alg::EdDSA));
  const std::string ok = fuzz::sign_with(k.client_eddsa, payload);
  put("jws_compact", "four_segments", ok + ".e30");
  put("jws_compact", "jwe_five_segments",
      b64(R"({"alg":"RSA-OAEP","enc":"A256GCM"})") + ".a.b.c.d");
  put("jws_compact", "padded_segments",
      b64(R"({"alg":"EdDSA"})") + "==." + b64(payload) + "=.AA==");
  put("jws_compact", "whitespace_inside", " " + ok + "\n");
  put("jws_compact", "empty_signature", ok.substr(0, ok.rfind('.') + 1));
  put("jws_compact", "empty_header", ok.substr(ok.find('.')));
  put("jws_compact", "header_not_json", b64("not json") + ".e30.AA");
  put("jws_compact", "header_array", b64(R"(["alg","EdDSA"])") + ".e30.AA");
  put("jws_compact", "header_deep",
      b64(R"({"alg":"EdDSA","x":[[[[[[[[[[[[1]]]]]]]]]]]]})") + ".e30.AA");
  put("jws_compact", "header_trailing_bits", "eyJhbGciOiJFZERTQSJ9" + std::string("f.e30.AA"));
  put("jws_compact", "signature_not_b64", ok.substr(0, ok.rfind('.') + 1) + "!!!!");
  put("jws_compact", "dots_only", "..");
}

std::string pub(const Jwk& j) {
  return to_json_string(j, false);
}
std::string priv(const Jwk& j) {
  return to_json_string(j, true);
}

// The JWK with one member replaced (or removed, for a null value).
std::string edit(const Jwk& j, bool with_private, std::string_view member, json::value v) {
  json::object o = to_json(j, with_private);
  if (v.is_null()) {
    o.erase(member);
  } else {
    o[member] = std::move(v);
  }
  return text(o);
}

std::string edit_str(const Jwk& j, bool with_private, std::string_view member,
                     const std::string& v) {
  return edit(j, with_private, member, json::value(json::string_view(v)));
}

void jwk_and_jwks(const FuzzKeys& k) {
  put("jwk", "rsa_private", priv(k.client_ps256));
  put("jwk", "rsa_public", pub(k.client_ps256));
  put("jwk", "ec_private", priv(k.client_es256));
  put("jwk", "ec_public", pub(k.client_es256));
  put("jwk", "okp_private", priv(k.client_eddsa));
  put("jwk", "okp_public", pub(k.client_eddsa));
  put("jwk", "rsa_1024_bits", edit_str(k.client_ps256, false, "n", b64(std::string(128, '\xC5'))));
  put("jwk", "rsa_16384_bits",
      edit_str(k.client_ps256, false, "n", b64(std::string(2048, '\xC5'))));
  put("jwk", "rsa_n_leading_zero",
      edit_str(k.client_ps256, false, "n",
               b64(std::string(1, '\0') +
                   *core::base64url_decode(to_json(k.client_ps256)["n"].as_string()))));
  put("jwk", "rsa_e_even", edit(k.client_ps256, false, "e", "AQAA"));
  put("jwk", "rsa_e_one", edit(k.client_ps256, false, "e", "AQ"));
  put("jwk", "rsa_e_huge", edit_str(k.client_ps256, false, "e", b64(std::string(64, '\x01'))));
  put("jwk", "rsa_d_only",
      text(json::object{{"kty", "RSA"},
                        {"n", to_json(k.client_ps256)["n"]},
                        {"e", "AQAB"},
                        {"d", to_json(k.client_ps256, true)["d"]}}));
  put("jwk", "rsa_private_wrong_p",
      edit(k.client_ps256, true, "p", to_json(k.other_ps256, true)["p"]));
  put("jwk", "rsa_multi_prime_oth", edit(k.client_ps256, false, "oth", json::array{}));
  put("jwk", "ec_off_curve", edit(k.client_es256, false, "y", to_json(k.other_es256)["y"]));
  put("jwk", "ec_p384", edit(k.client_es256, false, "crv", "P-384"));
  put("jwk", "ec_secp256k1", edit(k.client_es256, false, "crv", "secp256k1"));
  put("jwk", "ec_x_short", edit(k.client_es256, false, "x", "AAAA"));
  put("jwk", "ec_d_of_other_key",
      edit(k.client_es256, true, "d", to_json(k.other_es256, true)["d"]));
  put("jwk", "okp_x25519", edit(k.client_eddsa, false, "crv", "X25519"));
  put("jwk", "okp_x_not_of_d", edit(k.client_eddsa, true, "x", to_json(k.other_eddsa)["x"]));
  put("jwk", "oct_hmac_secret", R"({"kty":"oct","k":"c2VjcmV0","alg":"HS256"})");
  put("jwk", "alg_rs256", edit(k.client_ps256, false, "alg", "RS256"));
  put("jwk", "alg_mismatch_es256_on_rsa", edit(k.client_ps256, false, "alg", "ES256"));
  put("jwk", "use_enc", edit(k.client_es256, false, "use", "enc"));
  put("jwk", "use_other", edit(k.client_es256, false, "use", "wrap"));
  put("jwk", "key_ops_not_array", edit(k.client_es256, false, "key_ops", "verify"));
  put("jwk", "kid_number", edit(k.client_es256, false, "kid", 5));
  put("jwk", "x5c_garbage", edit(k.client_es256, false, "x5c", json::array{"bm90IGEgY2VydA=="}));
  put("jwk", "x5c_not_base64", edit(k.client_es256, false, "x5c", json::array{"!!"}));
  put("jwk", "kty_missing", edit(k.client_es256, false, "kty", nullptr));
  put("jwk", "not_an_object", "[1,2,3]");
  put("jwk", "deep", R"({"kty":"EC","a":{"b":{"c":{"d":{}}}}})");

  Jwks client;
  client.keys = {k.client_ps256, k.client_es256, k.client_eddsa};
  put("jwks", "client_public", k.client_jwks_json);
  put("jwks", "client_private", to_json_string(client, true));
  put("jwks", "two_keys", "{\"keys\":[" + pub(k.client_es256) + "," + pub(k.other_es256) + "]}");
  Jwk dup = k.other_es256;
  dup.kid = k.client_es256.kid;
  put("jwks", "duplicate_kid_same_kty",
      "{\"keys\":[" + pub(k.client_es256) + "," + pub(dup) + "]}");
  Jwk dup_rsa = k.client_ps256;
  dup_rsa.kid = k.client_es256.kid;
  put("jwks", "duplicate_kid_other_kty",
      "{\"keys\":[" + pub(k.client_es256) + "," + pub(dup_rsa) + "]}");
  put("jwks", "enc_key_skipped",
      "{\"keys\":[" + edit(k.client_es256, false, "use", "enc") + "," + pub(k.client_eddsa) + "]}");
  put("jwks", "unsupported_keys_skipped",
      "{\"keys\":[" + edit(k.client_es256, false, "crv", "P-521") +
          R"(,{"kty":"oct","k":"AA"},7,"x",null,)" + pub(k.client_eddsa) + "]}");
  put("jwks", "three_keys_over_small_limit",
      "{\"keys\":[" + pub(k.client_ps256) + "," + pub(k.client_es256) + "," + pub(k.client_eddsa) +
          "]}");
  put("jwks", "empty", R"({"keys":[]})");
  put("jwks", "keys_not_array", R"({"keys":{}})");
  put("jwks", "no_keys", R"({"k":[]})");
  put("jwks", "single_jwk_not_set", pub(k.client_es256));
  put("jwks", "deep", R"({"keys":[{"kty":"EC","x5c":[["a"]]}]})");
  put("jwks", "extra_members", "{\"keys\":[" + pub(k.client_eddsa) + R"(],"x":{"y":1}})");
}

void jwt_claims() {
  auto put_claims = [](std::string_view name, std::string_view json_text) {
    put("jwt_claims", name, json_text);
  };
  put_claims(
      "valid",
      R"({"iss":"https://as.example","aud":"https://as.example","sub":"s","exp":1700000300,"iat":1700000000,"nbf":1700000000,"jti":"j"})");
  put_claims(
      "aud_array",
      R"({"iss":"https://as.example","aud":["x","https://as.example/token"],"exp":1700000300})");
  put_claims("aud_array_non_string", R"({"aud":["https://as.example",1],"exp":1700000300})");
  put_claims("aud_object", R"({"aud":{"a":1},"exp":1700000300})");
  put_claims("exp_missing", R"({"iss":"https://as.example"})");
  put_claims("exp_string", R"({"exp":"1700000300"})");
  put_claims("exp_bool", R"({"exp":true})");
  put_claims("exp_fraction", R"({"exp":1700000300.75,"iat":1699999999.5})");
  put_claims("exp_negative_fraction", R"({"exp":-0.5,"nbf":-1.5})");
  put_claims("exp_int64_max", R"({"exp":9223372036854775807,"iat":-9223372036854775808})");
  put_claims("exp_uint64", R"({"exp":18446744073709551615})");
  put_claims("exp_huge_double", R"({"exp":1e300})");
  put_claims("exp_past", R"({"exp":1699990000})");
  put_claims("nbf_future", R"({"exp":1700000300,"nbf":1700009999})");
  put_claims("nbf_int64_min", R"({"exp":1700000300,"nbf":-9223372036854775808})");
  put_claims("iat_future", R"({"exp":1700000300,"iat":1700009999})");
  put_claims("iss_number", R"({"iss":1,"exp":1700000300})");
  put_claims("jti_object", R"({"jti":{},"exp":1700000300})");
  put_claims("duplicate_exp", R"({"exp":1,"exp":1700000300})");
  put_claims("deep", R"({"a":[[[[[[[[[1]]]]]]]]]})");
  put_claims("array_top", R"([1])");
  put_claims("invalid_utf8", "{\"iss\":\"\xff\"}");
}

// A request object's claims as the client would write them.
json::object request_claims() {
  return json::object{{"iss", "fuzz-client"},
                      {"aud", "https://as.example"},
                      {"client_id", "fuzz-client"},
                      {"exp", kNow + 300},
                      {"nbf", kNow - 10},
                      {"iat", kNow - 10},
                      {"jti", "ro-1"},
                      {"response_type", "code"},
                      {"redirect_uri", "https://client.example/cb"},
                      {"scope", "openid accounts"},
                      {"state", "af0ifjsldkj"},
                      {"nonce", "n-0S6_WzA2Mj"},
                      {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
                      {"code_challenge_method", "S256"}};
}

void request_object(const FuzzKeys& k) {
  auto variant = [](std::string_view name, auto&& change) {
    json::object c = request_claims();
    change(c);
    put("request_object", name, text(c));
  };
  variant("sign_valid", [](json::object&) {});
  variant("sign_hybrid_fragment", [](json::object& c) {
    c["response_type"] = "code id_token";
    c["response_mode"] = "fragment";
  });
  variant("sign_jarm", [](json::object& c) { c["response_mode"] = "jwt"; });
  variant("sign_aud_array", [](json::object& c) {
    c["aud"] = json::array{"x", "https://as.example"};
  });
  variant("sign_nbf_missing", [](json::object& c) { c.erase("nbf"); });
  variant("sign_exp_missing", [](json::object& c) { c.erase("exp"); });
  variant("sign_lifetime_over_60min", [](json::object& c) { c["exp"] = kNow + 7200; });
  variant("sign_nbf_older_than_60min", [](json::object& c) { c["nbf"] = kNow - 4000; });
  variant("sign_nbf_fraction", [](json::object& c) { c["nbf"] = double(kNow) - 0.5; });
  variant("sign_iss_other", [](json::object& c) { c["iss"] = "other-client"; });
  variant("sign_client_id_other", [](json::object& c) { c["client_id"] = "other-client"; });
  variant("sign_nested_request_uri", [](json::object& c) { c["request_uri"] = "urn:x"; });
  variant("sign_redirect_uri_other",
          [](json::object& c) { c["redirect_uri"] = "https://evil.example/cb"; });
  variant("sign_scope_unregistered", [](json::object& c) { c["scope"] = "admin"; });
  variant("sign_pkce_plain", [](json::object& c) { c["code_challenge_method"] = "plain"; });
  variant("sign_state_number", [](json::object& c) { c["state"] = 12345; });
  variant("sign_claims_object", [](json::object& c) {
    c["claims"] =
        json::object{{"id_token", json::object{{"acr", json::object{{"essential", true}}}}}};
  });
  const std::string claims = text(request_claims());
  put("request_object", "token_eddsa",
      fuzz::sign_with(k.client_eddsa, claims, "oauth-authz-req+jwt"));
  put("request_object", "token_es256",
      fuzz::sign_with(k.client_es256, claims, "oauth-authz-req+jwt"));
  put("request_object", "token_ps256_no_typ", fuzz::sign_with(k.client_ps256, claims));
  put("request_object", "token_typ_at_jwt", fuzz::sign_with(k.client_eddsa, claims, "at+jwt"));
  put("request_object", "token_other_client_key", fuzz::sign_with(k.other_eddsa, claims));
  put("request_object", "token_alg_none", b64(R"({"alg":"none"})") + "." + b64(claims) + ".");
}

json::object assertion_claims() {
  return json::object{{"iss", "fuzz-client"}, {"sub", "fuzz-client"}, {"aud", "https://as.example"},
                      {"exp", kNow + 60},     {"iat", kNow},          {"jti", "a-1"}};
}

void client_assertion(const FuzzKeys& k) {
  auto variant = [](std::string_view name, auto&& change) {
    json::object c = assertion_claims();
    change(c);
    put("client_assertion", name, text(c));
  };
  variant("sign_valid", [](json::object&) {});
  variant("sign_aud_array", [](json::object& c) { c["aud"] = json::array{"https://as.example"}; });
  variant("sign_aud_token_endpoint",
          [](json::object& c) { c["aud"] = "https://as.example/token"; });
  variant("sign_sub_missing", [](json::object& c) { c.erase("sub"); });
  variant("sign_jti_missing", [](json::object& c) { c.erase("jti"); });
  variant("sign_jti_long", [](json::object& c) { c["jti"] = std::string(300, 'j'); });
  variant("sign_exp_far", [](json::object& c) { c["exp"] = kNow + 86400; });
  variant("sign_iat_missing_exp_far", [](json::object& c) {
    c.erase("iat");
    c["exp"] = kNow + 900;
  });
  variant("sign_iat_int64_min", [](json::object& c) { c["iat"] = INT64_MIN; });
  variant("sign_nbf_future", [](json::object& c) { c["nbf"] = kNow + 120; });
  variant("sign_iss_other", [](json::object& c) { c["iss"] = "other"; });
  const std::string claims = text(assertion_claims());
  put("client_assertion", "token_ps256", fuzz::sign_with(k.client_ps256, claims));
  put("client_assertion", "token_es256", fuzz::sign_with(k.client_es256, claims));
  put("client_assertion", "token_eddsa_no_kid",
      raw_token(R"({"alg":"EdDSA"})", claims, k.client_eddsa, Alg::EdDSA));
  put("client_assertion", "token_other_key", fuzz::sign_with(k.other_es256, claims));
  put("client_assertion", "token_hs256",
      b64(R"({"alg":"HS256"})") + "." + b64(claims) + "." + b64("mac"));
  json::object ro = request_claims();
  put("client_assertion", "token_request_object_replayed",
      fuzz::sign_with(k.client_eddsa, text(ro)));
}

json::object statement_claims() {
  return json::object{{"iss", "FuzzDirectory"},
                      {"iat", kNow - 60},
                      {"jti", "ss-1"},
                      {"software_id", "fuzz-software"},
                      {"software_client_name", "Fuzz TPP"},
                      {"software_redirect_uris",
                       json::array{"https://client.example/cb", "https://client.example/cb2"}},
                      {"software_roles", json::array{"AISP", "PISP"}}};
}

void software_statement(const FuzzKeys& k) {
  auto variant = [](std::string_view name, auto&& change) {
    json::object c = statement_claims();
    change(c);
    put("software_statement", name, text(c));
  };
  variant("sign_valid", [](json::object&) {});
  variant("sign_iat_missing", [](json::object& c) { c.erase("iat"); });
  variant("sign_iat_too_old", [](json::object& c) { c["iat"] = kNow - 90000; });
  variant("sign_exp_past", [](json::object& c) { c["exp"] = kNow - 3600; });
  variant("sign_iss_other", [](json::object& c) { c["iss"] = "OtherDirectory"; });
  variant("sign_redirects_not_array",
          [](json::object& c) { c["software_redirect_uris"] = "https://x"; });
  variant("sign_redirects_null", [](json::object& c) { c["software_redirect_uris"] = nullptr; });
  variant("sign_overrides_auth_method", [](json::object& c) {
    c["token_endpoint_auth_method"] = "tls_client_auth";
    c["tls_client_auth_subject_dn"] = "CN=fuzz";
  });
  variant("sign_overrides_jwks_uri", [](json::object& c) { c["jwks_uri"] = "https://x/jwks"; });
  variant("sign_redirect_uris_outside",
          [](json::object& c) { c["redirect_uris"] = json::array{"https://evil.example/cb"}; });
  const std::string claims = text(statement_claims());
  put("software_statement", "token_ps256", fuzz::sign_with(k.other_ps256, claims));
  put("software_statement", "token_es256", fuzz::sign_with(k.other_es256, claims));
  put("software_statement", "token_eddsa_alg_refused", fuzz::sign_with(k.other_eddsa, claims));
  put("software_statement", "token_client_key_unapproved", fuzz::sign_with(k.client_es256, claims));
  put("software_statement", "token_alg_none", b64(R"({"alg":"none"})") + "." + b64(claims) + ".");
}

void dcr_metadata(const FuzzKeys& k) {
  const json::value jwks = json::parse(k.client_jwks_json);
  auto base = [&] {
    return json::object{{"token_endpoint_auth_method", "private_key_jwt"},
                        {"jwks", jwks},
                        {"redirect_uris", json::array{"https://client.example/cb"}},
                        {"grant_types", json::array{"authorization_code", "refresh_token"}},
                        {"scope", "openid accounts"},
                        {"client_name", "Fuzz"}};
  };
  auto variant = [&](std::string_view name, auto&& change) {
    json::object m = base();
    change(m);
    put("dcr_metadata", name, text(m));
  };
  variant("private_key_jwt", [](json::object&) {});
  variant("tls_client_auth", [](json::object& m) {
    m["token_endpoint_auth_method"] = "tls_client_auth";
    m["tls_client_auth_subject_dn"] = "CN=fuzz,O=Fuzz";
    m.erase("jwks");
  });
  variant("tls_client_auth_two_fields", [](json::object& m) {
    m["token_endpoint_auth_method"] = "tls_client_auth";
    m["tls_client_auth_subject_dn"] = "CN=fuzz";
    m["tls_client_auth_san_dns"] = "fuzz.example";
  });
  variant("self_signed",
          [](json::object& m) { m["token_endpoint_auth_method"] = "self_signed_tls_client_auth"; });
  variant("fapi1_hybrid", [](json::object& m) {
    m["fapi_profile"] = "fapi1_advanced";
    m["response_types"] = json::array{"code id_token"};
    m["refresh_token_rotation"] = true;
    m["require_pushed_authorization_requests"] = false;
  });
  variant("fapi2_rotation_refused", [](json::object& m) { m["refresh_token_rotation"] = true; });
  variant("client_credentials_only", [](json::object& m) {
    m["grant_types"] = json::array{"client_credentials"};
    m.erase("redirect_uris");
    m["response_types"] = json::array{};
  });
  variant("client_secret", [](json::object& m) { m["client_secret"] = "s3cret"; });
  variant("client_secret_basic",
          [](json::object& m) { m["token_endpoint_auth_method"] = "client_secret_basic"; });
  variant("jwks_uri", [](json::object& m) { m["jwks_uri"] = "https://client.example/jwks"; });
  variant("jwks_private_key", [&](json::object& m) {
    Jwks set;
    set.keys = {k.client_es256};
    m["jwks"] = json::parse(to_json_string(set, true));
  });
  variant("jwks_enc_only", [&](json::object& m) {
    json::array keys;
    keys.push_back(json::parse(edit(k.client_es256, false, "use", "enc")));
    json::object set;
    set["keys"] = std::move(keys);
    m["jwks"] = std::move(set);
  });
  variant("jwks_nested_member", [&](json::object& m) {
    json::object key = to_json(k.client_eddsa, false);
    key["ext"] = json::object{{"a", json::array{1}}};
    m["jwks"] = json::object{{"keys", json::array{key}}};
  });
  variant("http_redirect",
          [](json::object& m) { m["redirect_uris"] = json::array{"http://client.example/cb"}; });
  variant("redirect_fragment",
          [](json::object& m) { m["redirect_uris"] = json::array{"https://client.example/cb#x"}; });
  variant("redirect_userinfo",
          [](json::object& m) { m["redirect_uris"] = json::array{"https://u@client.example/cb"}; });
  variant("redirect_ipv6_port",
          [](json::object& m) { m["redirect_uris"] = json::array{"https://[::1]:8443/cb"}; });
  variant("redirect_bad_port", [](json::object& m) {
    m["redirect_uris"] = json::array{"https://client.example:99999/cb"};
  });
  variant("scope_unsupported", [](json::object& m) { m["scope"] = "admin"; });
  variant("scope_blank", [](json::object& m) { m["scope"] = "   "; });
  variant("refresh_without_code",
          [](json::object& m) { m["grant_types"] = json::array{"refresh_token"}; });
  variant("alg_hs256", [](json::object& m) { m["token_endpoint_auth_signing_alg"] = "HS256"; });
  variant("id_token_alg_other",
          [](json::object& m) { m["id_token_signed_response_alg"] = "ES256"; });
  variant("request_object_alg", [](json::object& m) { m["request_object_signing_alg"] = "EdDSA"; });
  variant("cert_bound_false",
          [](json::object& m) { m["tls_client_certificate_bound_access_tokens"] = false; });
  variant("nulls_are_absent", [](json::object& m) {
    m["jwks_uri"] = nullptr;
    m["client_secret"] = nullptr;
    m["contacts"] = nullptr;
  });
  variant("contacts_and_uris", [](json::object& m) {
    m["contacts"] = json::array{"ops@client.example", "ops@client.example"};
    m["logo_uri"] = "https://client.example/logo.png";
    m["tos_uri"] = "http://client.example/tos";
  });
  variant("application_type_native", [](json::object& m) { m["application_type"] = "native"; });
  variant("software_statement_valid", [&](json::object& m) {
    m["software_statement"] = fuzz::sign_with(k.other_ps256, text(statement_claims()));
  });
  variant("software_statement_not_string", [](json::object& m) { m["software_statement"] = 1; });
  variant("software_statement_forged", [&](json::object& m) {
    m["software_statement"] = fuzz::sign_with(k.client_es256, text(statement_claims()));
  });
  put("dcr_metadata", "not_an_object", "[]");
  put("dcr_metadata", "empty_object", "{}");
}

void core_corpora() {
  put("json_helpers", "object", R"({"a":1,"b":[true,false,null],"c":{"d":"e\u00e9\ud83d\ude00"}})");
  put("json_helpers", "numbers",
      R"([0,-0,1e308,-1e-308,1.5,18446744073709551615,-9223372036854775808,1E400])");
  put("json_helpers", "duplicate_keys", R"({"a":1,"a":2})");
  put("json_helpers", "deep", std::string(20, '[') + std::string(20, ']'));
  put("json_helpers", "string_escapes", R"("\"\\\/\b\f\n\r\t\u0000")");
  put("json_helpers", "lone_surrogate", R"("\ud800")");
  put("json_helpers", "invalid_utf8", "\"\xc0\xaf\"");
  put("json_helpers", "comments", "{\"a\":1 /* c */}");
  put("json_helpers", "trailing_comma", R"({"a":1,})");
  put("json_helpers", "exp_int_double", R"({"exp":1700000000.9,"iat":9.3e18,"nbf":-9.2e18})");
  put("base64url", "header", "eyJhbGciOiJFZERTQSJ9");
  put("base64url", "padded", "YQ==");
  put("base64url", "nonzero_trailing_bits", "YR");
  put("base64url", "std_alphabet", "+/+/");
  put("base64url", "one_char", "Y");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  const auto& k = FuzzKeys::get();
  jws_compact(k);
  jwk_and_jwks(k);
  jwt_claims();
  request_object(k);
  client_assertion(k);
  software_statement(k);
  dcr_metadata(k);
  core_corpora();
  return 0;
}
