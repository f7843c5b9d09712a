// JWS compact serialization (RFC 7515 §7.1): sign, parse and verify. The verifier chooses the
// allowed algorithms; the header's "alg" must be among them and fit the key (RFC 8725 §3.1).
// Unknown "crit" parameters, "none", HMAC, and "b64":false are refused.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "jose/jose_errc.hpp"
#include "jose/alg.hpp"
#include "jose/jwk.hpp"

namespace fapigate::jose {

struct JwsLimits {
  std::size_t max_token_bytes = 16 * 1024;
  std::size_t max_header_bytes = 2 * 1024;
  std::size_t max_json_depth = 8;
};

// A parsed, not yet verified, compact JWS.
struct ParsedJws {
  boost::json::object header;
  Alg alg{};
  std::string kid;               // empty when absent
  std::string typ;               // empty when absent
  std::string payload;           // decoded bytes
  std::string signing_input;     // BASE64URL(header) '.' BASE64URL(payload)
  std::string signature;         // decoded bytes
};

// Structure, base64url, header JSON, alg in the allow-list, crit. No signature check.
[[nodiscard]] Result<ParsedJws> parse_compact(std::string_view token, const AlgList& allowed,
                                              JwsLimits limits = {});

// Looks up the verification key for a parsed header: (kid, alg) -> key or nullptr.
using KeyLookup = std::function<std::shared_ptr<const crypto::Verifier>(std::string_view kid,
                                                                        Alg alg)>;

// parse_compact + signature verification with the key the lookup returns.
[[nodiscard]] Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed,
                                               const KeyLookup& lookup, JwsLimits limits = {});
// Convenience: verify against one JWK (its alg, if set, must equal the header's).
[[nodiscard]] Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed,
                                               const Jwk& key, JwsLimits limits = {});

// Signs `payload` (bytes, usually a JSON claims set). The header gets "alg" and, when given,
// "kid" and "typ"; extra members are merged in.
[[nodiscard]] Result<std::string> sign_compact(std::string_view payload, Alg alg,
                                               const crypto::Key& private_key,
                                               std::string_view kid = {},
                                               std::string_view typ = {},
                                               const boost::json::object* extra_header = nullptr);
// The same with a prepared signer (the AS signs every token with one).
[[nodiscard]] Result<std::string> sign_compact(std::string_view payload,
                                               const crypto::Signer& signer,
                                               std::string_view kid = {},
                                               std::string_view typ = {});

// A JWKS as a verification-key lookup: verifiers prepared once per key at construction ("enc"
// keys and keys fitting no allowed alg are left out). Immutable afterwards: find/select are
// const, allocation-free and safe to call from any number of threads.
class VerifierSet {
public:
  explicit VerifierSet(const Jwks& jwks);
  // kid match (and alg fit); with an empty kid, the only key that fits the alg, if exactly one.
  std::shared_ptr<const crypto::Verifier> find(std::string_view kid, Alg alg) const;
  // The same with the reason when there is none: KidNotFound (no such kid, or no kid and zero
  // or several keys fit), AlgKeyMismatch (the kid exists but its key does not fit the alg).
  [[nodiscard]] Result<std::shared_ptr<const crypto::Verifier>> select(std::string_view kid,
                                                                       Alg alg) const;
  std::size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::string kid;
    std::optional<Alg> jwk_alg;
    crypto::Key key;
    std::shared_ptr<const crypto::Verifier> verifiers[3];  // by Alg, null where the key does not fit
  };
  std::vector<Entry> entries_;
};

// parse_compact + signature verification against a VerifierSet; unlike the KeyLookup form it
// tells an unknown kid (KidNotFound) from a kid whose key does not fit the alg (AlgKeyMismatch).
[[nodiscard]] Result<ParsedJws> verify_compact(std::string_view token, const AlgList& allowed,
                                               const VerifierSet& keys, JwsLimits limits = {});

// RFC 7515 §4.1.9: "typ" equals `expected`, case-insensitively, with or without the
// "application/" prefix (e.g. "at+jwt" vs "application/at+jwt", RFC 9068 §4). TypMismatch
// otherwise, including when typ is absent.
[[nodiscard]] Result<void> check_typ(const ParsedJws& jws, std::string_view expected);

}  // namespace fapigate::jose
