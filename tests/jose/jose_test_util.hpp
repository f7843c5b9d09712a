// Helpers for the jose tests: reading vectors from tests/data/jose, building compact tokens
// with arbitrary headers, and test keys generated once per process (tests stay hermetic; no
// key on disk can expire or leak into production).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "crypto/key.hpp"
#include "crypto/signature.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::jose::test {

// A file under tests/data/jose, without the trailing newline.
inline std::string read_data(std::string_view name) {
  std::ifstream in(std::string(FAPIGATE_TEST_DATA_DIR) + "/jose/" + std::string(name),
                   std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

inline std::string b64(std::string_view bytes) { return core::base64url_encode(bytes); }

// header.payload.signature from raw (not yet encoded) parts.
inline std::string compact(std::string_view header_json, std::string_view payload,
                           std::string_view signature) {
  return b64(header_json) + "." + b64(payload) + "." + b64(signature);
}

// Signs an arbitrary header JSON text (which may be hostile) with `alg` and `key`.
inline std::string sign_raw(crypto::SignatureAlg alg, const crypto::Key& key,
                            std::string_view header_json, std::string_view payload) {
  std::string input = b64(header_json) + "." + b64(payload);
  auto sig = crypto::sign(alg, key, input);
  if (!sig) {
    return {};
  }
  return input + "." + b64(*sig);
}

// One key of each type, generated once.
struct TestKeys {
  crypto::Key rsa;
  crypto::Key rsa2;
  crypto::Key ec;
  crypto::Key ec2;
  crypto::Key ed;
  crypto::Key ed2;

  static const TestKeys& get() {
    static const TestKeys keys = [] {
      TestKeys k;
      k.rsa = crypto::Key::generate(crypto::KeyType::Rsa).value();
      k.rsa2 = crypto::Key::generate(crypto::KeyType::Rsa).value();
      k.ec = crypto::Key::generate(crypto::KeyType::Ec).value();
      k.ec2 = crypto::Key::generate(crypto::KeyType::Ec).value();
      k.ed = crypto::Key::generate(crypto::KeyType::Ed25519).value();
      k.ed2 = crypto::Key::generate(crypto::KeyType::Ed25519).value();
      return k;
    }();
    return keys;
  }
};

// A JWKS text with the public halves of the given JWKs.
inline std::string jwks_text(std::initializer_list<const Jwk*> keys) {
  Jwks set;
  for (const Jwk* k : keys) {
    set.keys.push_back(*k);
  }
  return to_json_string(set);
}

inline ErrorCode code(JoseErrc e) { return make_error_code(e); }

}  // namespace fapigate::jose::test
