#include "as/checks/redirect_uri.hpp"

namespace fapigate::as {

std::optional<OAuthError> check_redirect_uri(std::optional<std::string_view> uri,
                                             const store::ClientRecord& client) {
  constexpr std::size_t kMaxUriBytes = 2048;
  if (!uri || uri->empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "redirect_uri is required");
  }
  if (uri->size() > kMaxUriBytes) {
    return oauth_error(OAuthErrc::InvalidRequest, "redirect_uri is too long");
  }
  for (const auto& registered : client.redirect_uris) {
    // Byte for byte: no case folding, no trailing-slash or port normalisation, no query merge.
    if (registered == *uri) {
      return std::nullopt;
    }
  }
  return oauth_error(OAuthErrc::InvalidRequest,
                     "redirect_uri is not registered for this client",
                     "unregistered redirect_uri for " + client.client_id);
}

}  // namespace fapigate::as
