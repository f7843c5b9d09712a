// libFuzzer target for dynamic client registration metadata (RFC 7591 §2; as/checks/
// client_metadata.hpp), following the endpoint's own order (registration.cpp metadata_from):
// the body parsed with the endpoint's JSON bounds, a software statement (if any) verified
// against the fixed directory and merged, then the FAPI metadata policy. Seeds:
// tests/fuzz/corpus/dcr_metadata. Invariants, each an abort: every refusal is a registration
// error (RFC 7591 §3.2.2), and every accepted client satisfies dcr_fuzz_checks.hpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "as/as_fuzz_common.hpp"
#include "as/checks/client_metadata.hpp"
#include "as/checks/software_statement.hpp"
#include "as/dcr_fuzz_checks.hpp"
#include "core/json.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::as;

OAuthResult<RegisteredMetadata> register_body(std::string_view text) {
  // The endpoint's bounds (registration.cpp read_json_body).
  auto body = core::parse_json_object(text, core::JsonLimits{64 * 1024, 8});
  if (!body) {
    return oauth_error(OAuthErrc::InvalidClientMetadata, "the body must be a JSON object");
  }
  const auto* ss = body->if_contains("software_statement");
  if (ss && !ss->is_null()) {
    if (!ss->is_string()) {
      return oauth_error(OAuthErrc::InvalidSoftwareStatement, "not a string");
    }
    auto claims = verify_software_statement(ss->get_string(), fuzz::directory_trust(), fuzz::kNow);
    if (!claims) {
      return claims.error();
    }
    auto merged = apply_software_statement(std::move(*body), *claims);
    if (!merged) {
      return merged.error();
    }
    *body = std::move(*merged);
  }
  return validate_client_metadata(*body, fuzz::as_settings());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::directory_trust();
  (void)fuzz::as_settings();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto out = register_body(text);
  if (!out) {
    FAPI_FUZZ_CHECK(fuzz::registration_error(out.error().code));
    FAPI_FUZZ_CHECK(!out.error().description.empty());
    return 0;
  }
  fuzz::check_registered(*out);
  return 0;
}
