#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/grants/grant_table.hpp"
#include "core/log.hpp"

namespace fapigate::as {
namespace {

http::Response refuse(const OAuthError& e, const store::ClientRecord* client) {
  auto level = e.code == OAuthErrc::ServerError ? core::log::Level::Error : core::log::Level::Warn;
  core::log::write(level, "token_refused",
                   {{"error", std::string(errc_name(e.code))},
                    {"client_id", client ? client->client_id : std::string()},
                    {"detail", e.detail.empty() ? e.description : e.detail}});
  return to_response(e);
}

}  // namespace

http::Response token_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return refuse(form.error(), nullptr);
  }
  auto client = authenticate_client(ctx, request, *form);
  if (!client) {
    return refuse(client.error(), nullptr);
  }
  auto type = form->find("grant_type");
  if (type == form->end() || type->second.empty()) {
    return refuse(oauth_error(OAuthErrc::InvalidRequest, "grant_type is required"), &*client);
  }
  const Grant* grant = find_grant(type->second);
  if (!grant) {
    return refuse(oauth_error(OAuthErrc::UnsupportedGrantType, "grant_type is not supported"),
                  &*client);
  }
  const auto& allowed = client->grant_types;
  if (std::find(allowed.begin(), allowed.end(), type->second) == allowed.end()) {
    return refuse(oauth_error(OAuthErrc::UnauthorizedClient,
                              "the client is not allowed to use this grant_type"),
                  &*client);
  }
  auto body = grant->run(ctx, request, *form, *client);
  if (!body) {
    return refuse(body.error(), &*client);
  }
  auto response = http::Response::json(200, std::move(*body));
  // RFC 6749 §5.1: token responses must not be cached.
  response.headers.add("Cache-Control", "no-store");
  response.headers.add("Pragma", "no-cache");
  return response;
}

}  // namespace fapigate::as
