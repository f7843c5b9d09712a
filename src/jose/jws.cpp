#include "jose/jws.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "jose/jose_errc.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;

ErrorCode err(JoseErrc e) { return make_error_code(e); }

std::size_t alg_index(Alg alg) { return static_cast<std::size_t>(alg); }

bool in_list(const AlgList& allowed, Alg alg) {
  return std::find(allowed.begin(), allowed.end(), alg) != allowed.end();
}

// base64url without padding encodes n bytes in ceil(4n/3) characters.
std::size_t encoded_size(std::size_t decoded) { return (decoded * 4 + 2) / 3; }

// Checks an optional string header member; a non-string is a malformed header.
bool optional_header_string(const json::object& header, std::string_view name,
                            std::string& out) {
  auto it = header.find(name);
  if (it == header.end()) {
    return true;
  }
  const auto* s = it->value().if_string();
  if (s == nullptr) {
    return false;
  }
  out.assign(s->data(), s->size());
  return true;
}

std::string build_header(Alg alg, std::string_view kid, std::string_view typ,
                         const json::object* extra) {
  json::object header;
  header.reserve(3 + (extra != nullptr ? extra->size() : 0));
  header["alg"] = alg_name(alg);
  if (!kid.empty()) {
    header["kid"] = kid;
  }
  if (!typ.empty()) {
    header["typ"] = typ;
  }
  if (extra != nullptr) {
    for (const auto& member : *extra) {
      header[member.key()] = member.value();
    }
  }
  return json::serialize(header);
}

std::string signing_input_of(std::string_view header_json, std::string_view payload) {
  std::string out = core::base64url_encode(header_json);
  out.reserve(out.size() + 1 + encoded_size(payload.size()) + 1 + 344);
  out.push_back('.');
  out += core::base64url_encode(payload);
  return out;
}

}  // namespace

Result<ParsedJws> parse_compact(std::string_view token, const AlgList& allowed,
                                JwsLimits limits) {
  if (token.size() > limits.max_token_bytes) {
    return err(JoseErrc::TooLarge);
  }
  // RFC 7515 §7.1: exactly three segments. A fourth or fifth (JWE) is refused here.
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) {
    return err(JoseErrc::Malformed);
  }
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return err(JoseErrc::Malformed);
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty()) {
    return err(JoseErrc::Malformed);
  }
  if (header_b64.size() > encoded_size(limits.max_header_bytes)) {
    return err(JoseErrc::TooLarge);
  }

  ParsedJws out;
  auto header_json = core::base64url_decode(header_b64);
  if (!header_json) {
    return err(JoseErrc::Malformed);
  }
  auto header = core::parse_json_object(
      *header_json, core::JsonLimits{limits.max_header_bytes, limits.max_json_depth});
  if (!header) {
    return err(header.error() == core::JsonErrc::TooLarge ? JoseErrc::TooLarge
                                                           : JoseErrc::HeaderNotJson);
  }
  out.header = std::move(*header);

  // RFC 8725 §3.1: the verifier's allow-list decides; the header only selects within it.
  auto alg_it = out.header.find("alg");
  if (alg_it == out.header.end() || !alg_it->value().is_string()) {
    return err(JoseErrc::AlgMissing);
  }
  const auto& alg_str = alg_it->value().get_string();
  auto alg = parse_alg(std::string_view(alg_str));
  if (!alg || !in_list(allowed, *alg)) {
    return err(JoseErrc::AlgNotAllowed);
  }
  out.alg = *alg;

  // RFC 7515 §4.1.11: we understand no extension, so any "crit" is refused, even an empty one
  // (which §4.1.11 forbids anyway). RFC 7797 "b64":false changes what is signed; we only ever
  // accept the default.
  if (out.header.contains("crit")) {
    return err(JoseErrc::CritUnsupported);
  }
  if (auto b64 = out.header.find("b64"); b64 != out.header.end()) {
    const auto* b = b64->value().if_bool();
    if (b == nullptr || !*b) {
      return err(JoseErrc::CritUnsupported);
    }
  }
  // Keys are only ever chosen by kid from the verifier's own set: "jwk", "jku", "x5u" and "x5c"
  // in the header are ignored (RFC 8725 §3.10 / the embedded-key attack).
  if (!optional_header_string(out.header, "kid", out.kid) ||
      !optional_header_string(out.header, "typ", out.typ)) {
    return err(JoseErrc::Malformed);
  }

  // Checked after alg so that an unsecured JWS (RFC 7515 A.5: "none", empty signature) is
  // reported as the disallowed algorithm it is.
  if (signature_b64.empty()) {
    return err(JoseErrc::Malformed);
  }
  auto payload = core::base64url_decode(payload_b64);
  auto signature = core::base64url_decode(signature_b64);
  if (!payload || !signature) {
    return err(JoseErrc::Malformed);
  }
  out.payload = std::move(*payload);
  out.signature = std::move(*signature);
  out.signing_input.assign(token.data(), dot2);
  return out;
}

Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed,
                                 const KeyLookup& lookup, JwsLimits limits) {
  auto parsed = parse_compact(token, allowed, limits);
  if (!parsed) {
    return parsed.error();
  }
  auto verifier = lookup ? lookup(parsed->kid, parsed->alg) : nullptr;
  if (!verifier) {
    return err(JoseErrc::KidNotFound);
  }
  if (verifier->alg() != parsed->alg) {
    return err(JoseErrc::AlgKeyMismatch);
  }
  if (!verifier->verify(parsed->signing_input, parsed->signature)) {
    return err(JoseErrc::BadSignature);
  }
  return parsed;
}

Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed,
                                 const VerifierSet& keys, JwsLimits limits) {
  auto parsed = parse_compact(token, allowed, limits);
  if (!parsed) {
    return parsed.error();
  }
  auto verifier = keys.select(parsed->kid, parsed->alg);
  if (!verifier) {
    return verifier.error();
  }
  if (!(*verifier)->verify(parsed->signing_input, parsed->signature)) {
    return err(JoseErrc::BadSignature);
  }
  return parsed;
}

Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed, const Jwk& key,
                                 JwsLimits limits) {
  auto parsed = parse_compact(token, allowed, limits);
  if (!parsed) {
    return parsed.error();
  }
  if (key.use == "enc" || (key.alg && *key.alg != parsed->alg) ||
      !crypto::key_fits(parsed->alg, key.key)) {
    return err(JoseErrc::AlgKeyMismatch);
  }
  if (!crypto::verify(parsed->alg, key.key, parsed->signing_input, parsed->signature)) {
    return err(JoseErrc::BadSignature);
  }
  return parsed;
}

Result<void> check_typ(const ParsedJws& jws, std::string_view expected) {
  // RFC 7515 §4.1.9: "application/" may be omitted, media types compare case-insensitively.
  auto strip = [](std::string_view t) {
    constexpr std::string_view kPrefix = "application/";
    if (t.size() > kPrefix.size() && core::iequals(t.substr(0, kPrefix.size()), kPrefix)) {
      t.remove_prefix(kPrefix.size());
    }
    return t;
  };
  if (!core::iequals(strip(jws.typ), strip(expected))) {
    return err(JoseErrc::TypMismatch);
  }
  return {};
}

Result<std::string> sign_compact(std::string_view payload, Alg alg,
                                 const crypto::Key& private_key, std::string_view kid,
                                 std::string_view typ, const boost::json::object* extra_header) {
  if (!crypto::key_fits(alg, private_key)) {
    return err(JoseErrc::AlgKeyMismatch);
  }
  if (extra_header != nullptr) {
    // The header's alg is the one we sign with, and we never emit an extension we could not
    // verify ourselves.
    if (extra_header->contains("alg")) {
      return err(JoseErrc::AlgKeyMismatch);
    }
    if (extra_header->contains("crit") || extra_header->contains("b64")) {
      return err(JoseErrc::CritUnsupported);
    }
  }
  std::string input = signing_input_of(build_header(alg, kid, typ, extra_header), payload);
  auto signature = crypto::sign(alg, private_key, input);
  if (!signature) {
    return signature.error();
  }
  input.push_back('.');
  input += core::base64url_encode(*signature);
  return input;
}

Result<std::string> sign_compact(std::string_view payload, const crypto::Signer& signer,
                                 std::string_view kid, std::string_view typ) {
  std::string input = signing_input_of(build_header(signer.alg(), kid, typ, nullptr), payload);
  auto signature = signer.sign(input);
  if (!signature) {
    return signature.error();
  }
  input.push_back('.');
  input += core::base64url_encode(*signature);
  return input;
}

VerifierSet::VerifierSet(const Jwks& jwks) {
  entries_.reserve(jwks.keys.size());
  for (const auto& jwk : jwks.keys) {
    if (jwk.use == "enc" || !jwk.key.valid()) {
      continue;
    }
    Entry entry;
    entry.kid = jwk.kid;
    entry.jwk_alg = jwk.alg;
    entry.key = jwk.key;
    bool any = false;
    for (Alg alg : kAllAlgs) {
      if ((jwk.alg && *jwk.alg != alg) || !crypto::key_fits(alg, jwk.key)) {
        continue;
      }
      auto verifier = crypto::Verifier::create(alg, jwk.key);
      if (verifier) {
        entry.verifiers[alg_index(alg)] = std::move(*verifier);
        any = true;
      }
    }
    if (any) {
      entries_.push_back(std::move(entry));
    }
  }
}

Result<std::shared_ptr<const crypto::Verifier>> VerifierSet::select(std::string_view kid,
                                                                    Alg alg) const {
  const std::size_t index = alg_index(alg);
  if (!kid.empty()) {
    bool kid_seen = false;
    for (const auto& e : entries_) {
      if (e.kid == kid) {
        if (e.verifiers[index]) {
          return e.verifiers[index];
        }
        kid_seen = true;
      }
    }
    return err(kid_seen ? JoseErrc::AlgKeyMismatch : JoseErrc::KidNotFound);
  }
  // No kid: only unambiguous when exactly one key fits the alg (RFC 7515 §4.1.4 leaves key
  // selection to the application; guessing among several would turn a typo into a retry loop).
  const Entry* only = nullptr;
  for (const auto& e : entries_) {
    if (e.verifiers[index]) {
      if (only != nullptr) {
        return err(JoseErrc::KidNotFound);
      }
      only = &e;
    }
  }
  if (only == nullptr) {
    return err(JoseErrc::KidNotFound);
  }
  return only->verifiers[index];
}

std::shared_ptr<const crypto::Verifier> VerifierSet::find(std::string_view kid, Alg alg) const {
  auto r = select(kid, alg);
  return r ? std::move(*r) : nullptr;
}

}  // namespace fapigate::jose
