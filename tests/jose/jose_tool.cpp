// Test-only command line front end to fapigate's jose module, driven by the npm interop test
// (tests/interop/jose_interop.mjs). Not installed, not part of fapigate.
//
//   jose_tool keygen ALG                       -> private JWK (kid = RFC 7638 thumbprint, alg)
//   jose_tool public JWK_FILE                  -> the public JWK
//   jose_tool thumbprint JWK_FILE              -> RFC 7638 thumbprint
//   jose_tool sign ALG PRIVATE_JWK_FILE PAYLOAD_FILE [TYP]  -> compact JWS (kid from the JWK)
//   jose_tool verify JWKS_FILE TOKEN_FILE ALG...             -> payload; exit 1 + error on failure
//   jose_tool encrypt ALG ENC JWKS_FILE PLAINTEXT_FILE       -> compact JWE to the JWKS's key
//
// verify accepts a JWK Set or a single JWK, checks the signature with the allow-list ALG...,
// then (for a JSON payload) exp/nbf/iat against the system clock with 10 s skew.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "core/json.hpp"
#include "jose/alg.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwe.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;

int usage() {
  std::cerr << "usage: jose_tool keygen ALG | public JWK | thumbprint JWK |\n"
               "       sign ALG PRIVATE_JWK PAYLOAD_FILE [TYP] | verify JWKS TOKEN_FILE ALG... |\n"
               "       encrypt ALG ENC JWKS PLAINTEXT_FILE\n";
  return 2;
}

int fail(std::string_view what, const ErrorCode& ec) {
  std::cerr << "jose_tool: " << what << ": " << ec.message() << "\n";
  return 1;
}

bool read_file(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "jose_tool: cannot read " << path << "\n";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string_view trim_newlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<Alg> alg_arg(const char* name) {
  auto alg = parse_alg(name);
  if (!alg) {
    std::cerr << "jose_tool: algorithm not allowed: " << name << "\n";
  }
  return alg;
}

int keygen(const char* alg_name_arg) {
  auto alg = alg_arg(alg_name_arg);
  if (!alg) {
    return 1;
  }
  crypto::KeyType type = *alg == Alg::PS256   ? crypto::KeyType::Rsa
                         : *alg == Alg::ES256 ? crypto::KeyType::Ec
                                              : crypto::KeyType::Ed25519;
  auto key = crypto::Key::generate(type);
  if (!key) {
    return fail("keygen", key.error());
  }
  Jwk jwk = make_jwk(*key, "", *alg);
  jwk.kid = thumbprint(jwk);
  std::cout << to_json_string(jwk, /*include_private=*/true) << "\n";
  return 0;
}

int print_public(const char* path) {
  std::string text;
  if (!read_file(path, text)) {
    return 1;
  }
  auto jwk = parse_jwk(text);
  if (!jwk) {
    return fail("parse JWK", jwk.error());
  }
  jwk->use = "sig";
  std::cout << to_json_string(*jwk) << "\n";
  return 0;
}

int print_thumbprint(const char* path) {
  std::string text;
  if (!read_file(path, text)) {
    return 1;
  }
  auto jwk = parse_jwk(text);
  if (!jwk) {
    return fail("parse JWK", jwk.error());
  }
  std::cout << thumbprint(*jwk) << "\n";
  return 0;
}

int sign(const char* alg_name_arg, const char* jwk_path, const char* payload_path,
         const char* typ) {
  auto alg = alg_arg(alg_name_arg);
  std::string jwk_text;
  std::string payload;
  if (!alg || !read_file(jwk_path, jwk_text) || !read_file(payload_path, payload)) {
    return 1;
  }
  auto jwk = parse_jwk(jwk_text);
  if (!jwk) {
    return fail("parse JWK", jwk.error());
  }
  if (jwk->alg && *jwk->alg != *alg) {
    return fail("sign", make_error_code(JoseErrc::AlgKeyMismatch));
  }
  auto token = sign_compact(payload, *alg, jwk->key, jwk->kid, typ != nullptr ? typ : "");
  if (!token) {
    return fail("sign", token.error());
  }
  std::cout << *token << "\n";
  return 0;
}

int verify(const char* jwks_path, const char* token_path, int nalgs, char** algs) {
  std::string jwks_text;
  std::string token;
  if (!read_file(jwks_path, jwks_text) || !read_file(token_path, token)) {
    return 1;
  }
  AlgList allowed;
  for (int i = 0; i < nalgs; ++i) {
    auto alg = alg_arg(algs[i]);
    if (!alg) {
      return 1;
    }
    allowed.push_back(*alg);
  }
  // A JWK Set, or one JWK wrapped into a set.
  Jwks set;
  auto doc = core::parse_json_object(jwks_text);
  if (doc && !doc->contains("keys")) {
    auto jwk = parse_jwk(*doc);
    if (!jwk) {
      return fail("parse JWK", jwk.error());
    }
    set.keys.push_back(std::move(*jwk));
  } else {
    auto parsed = parse_jwks(jwks_text);
    if (!parsed) {
      return fail("parse JWKS", parsed.error());
    }
    set = std::move(*parsed);
  }
  VerifierSet keys(set);
  auto jws = verify_compact(trim_newlines(token), allowed, keys);
  if (!jws) {
    return fail("verify", jws.error());
  }
  if (!jws->payload.empty() && jws->payload.front() == '{') {
    auto claims = parse_claims(jws->payload);
    if (!claims) {
      return fail("claims", claims.error());
    }
    ClaimExpectations expect;
    expect.now = static_cast<std::int64_t>(std::time(nullptr));
    expect.require_exp = false;
    if (auto ok = check_claims(*claims, expect); !ok) {
      return fail("claims", ok.error());
    }
  }
  std::cout << jws->payload << "\n";
  return 0;
}

// The way the authorization server encrypts an ID token: the recipient's key chosen from its
// JWKS for ALG, a nested JWT (cty JWT).
int encrypt(const char* alg_name_arg, const char* enc_name, const char* jwks_path,
            const char* plaintext_path) {
  auto alg = parse_key_management_alg(alg_name_arg);
  auto enc = parse_content_encryption(enc_name);
  if (!alg || !enc) {
    std::cerr << "jose_tool: not offered: " << alg_name_arg << " / " << enc_name << "\n";
    return 1;
  }
  std::string jwks_text;
  std::string plaintext;
  if (!read_file(jwks_path, jwks_text) || !read_file(plaintext_path, plaintext)) {
    return 1;
  }
  auto key = find_encryption_key(jwks_text, *alg);
  if (!key) {
    return fail("encryption key", key.error());
  }
  auto jwe = encrypt_compact(plaintext, key->key, {*alg, *enc, key->kid, "JWT"});
  if (!jwe) {
    return fail("encrypt", jwe.error());
  }
  std::cout << *jwe << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage();
  }
  const std::string cmd = argv[1];
  if (cmd == "keygen" && argc == 3) {
    return keygen(argv[2]);
  }
  if (cmd == "public" && argc == 3) {
    return print_public(argv[2]);
  }
  if (cmd == "thumbprint" && argc == 3) {
    return print_thumbprint(argv[2]);
  }
  if (cmd == "sign" && (argc == 5 || argc == 6)) {
    return sign(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : nullptr);
  }
  if (cmd == "encrypt" && argc == 6) {
    return encrypt(argv[2], argv[3], argv[4], argv[5]);
  }
  if (cmd == "verify" && argc >= 5) {
    return verify(argv[2], argv[3], argc - 4, argv + 4);
  }
  return usage();
}
