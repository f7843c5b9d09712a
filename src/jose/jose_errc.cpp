#include "jose/jose_errc.hpp"

#include <string>

namespace fapigate::jose {
namespace {

class JoseCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.jose"; }
  std::string message(int ev) const override {
    switch (static_cast<JoseErrc>(ev)) {
      case JoseErrc::TooLarge: return "JOSE object too large";
      case JoseErrc::Malformed: return "malformed JWS compact serialization";
      case JoseErrc::HeaderNotJson: return "JWS header is not a JSON object";
      case JoseErrc::PayloadNotJson: return "JWT payload is not a JSON object";
      case JoseErrc::AlgMissing: return "JWS header has no alg";
      case JoseErrc::AlgNotAllowed: return "JWS alg is not allowed";
      case JoseErrc::AlgKeyMismatch: return "JWS alg does not fit the key";
      case JoseErrc::CritUnsupported: return "JWS crit or b64 extension not supported";
      case JoseErrc::KidNotFound: return "no verification key for this kid";
      case JoseErrc::BadSignature: return "JWS signature does not verify";
      case JoseErrc::TypMismatch: return "JWS typ is not the expected one";
      case JoseErrc::JwkInvalid: return "invalid JWK";
      case JoseErrc::JwkUnsupported: return "unsupported JWK key type, curve or alg";
      case JoseErrc::JwksInvalid: return "invalid JWK Set";
      case JoseErrc::IssuerMismatch: return "JWT iss is missing or not the expected issuer";
      case JoseErrc::AudienceMismatch: return "JWT aud is missing or does not match";
      case JoseErrc::Expired: return "JWT has expired";
      case JoseErrc::ExpMissing: return "JWT exp is missing";
      case JoseErrc::NotYetValid: return "JWT is not yet valid (nbf)";
      case JoseErrc::IssuedInFuture: return "JWT iat is in the future";
      case JoseErrc::ClaimInvalid: return "JWT claim has an invalid type or value";
      case JoseErrc::EncryptionKeyNotFound:
        return "no RSA encryption key for that algorithm in the recipient's JWKS";
      case JoseErrc::EncryptionFailed: return "JWE encryption failed";
    }
    return "unknown JOSE error";
  }
};

const JoseCategory kCategory;

}  // namespace

ErrorCode make_error_code(JoseErrc e) { return {static_cast<int>(e), kCategory}; }

}  // namespace fapigate::jose
