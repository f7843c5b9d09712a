#include "as/checks/scope.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace fapigate::as {

OAuthResult<std::vector<std::string>> select_scopes(const std::optional<std::string>& requested,
                                                    const store::ClientRecord& client) {
  if (!requested) {
    return client.scopes;
  }
  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
  for (unsigned char c : *requested) {
    if (c != ' ' && (c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E)) {
      return oauth_error(OAuthErrc::InvalidScope, "scope contains characters RFC 6749 forbids");
    }
  }
  auto wanted = core::split_scopes(*requested);
  if (wanted.empty()) {
    return oauth_error(OAuthErrc::InvalidScope, "scope is empty");
  }
  std::vector<std::string> granted;
  for (auto& s : wanted) {
    if (std::find(client.scopes.begin(), client.scopes.end(), s) == client.scopes.end()) {
      return oauth_error(OAuthErrc::InvalidScope, "scope not allowed for this client",
                         "client " + client.client_id + " asked for " + s);
    }
    if (std::find(granted.begin(), granted.end(), s) == granted.end()) {
      granted.push_back(std::move(s));
    }
  }
  return granted;
}

}  // namespace fapigate::as
