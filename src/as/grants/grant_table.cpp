#include "as/grants/grant_table.hpp"

#include <array>

namespace fapigate::as {
namespace {

constexpr std::array kGrants{
    Grant{"authorization_code", &authorization_code_grant},
    Grant{"client_credentials", &client_credentials_grant, &client_credentials_grant_deferred},
    Grant{"refresh_token", &refresh_token_grant},
};

}  // namespace

const Grant* find_grant(std::string_view grant_type) {
  for (const auto& g : kGrants) {
    if (g.type == grant_type) {
      return &g;
    }
  }
  return nullptr;
}

std::vector<std::string> supported_grant_types() {
  std::vector<std::string> out;
  for (const auto& g : kGrants) {
    out.emplace_back(g.type);
  }
  return out;
}

}  // namespace fapigate::as
