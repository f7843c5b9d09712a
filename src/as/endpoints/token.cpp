#include <algorithm>
#include <functional>
#include <memory>

#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/grants/grant_table.hpp"
#include "core/log.hpp"

namespace fapigate::as {
namespace {

http::Response refuse(const OAuthError& e, const std::string& client_id) {
  auto level = e.code == OAuthErrc::ServerError ? core::log::Level::Error : core::log::Level::Warn;
  core::log::write(level, "token_refused",
                   {{"error", std::string(errc_name(e.code))},
                    {"client_id", client_id},
                    {"detail", e.detail.empty() ? e.description : e.detail}});
  return to_response(e);
}

http::Response token_response(std::string body) {
  auto response = http::Response::json(200, std::move(body));
  // RFC 6749 §5.1: token responses must not be cached.
  response.headers.add("Cache-Control", "no-store");
  response.headers.add("Pragma", "no-cache");
  return response;
}

struct Admitted {
  store::ClientRecord client;
  const Grant* grant = nullptr;
};

// Everything before the grant runs: the form, client authentication, the grant type and
// whether this client may use it.
OAuthResult<Admitted> admit(const AsContext& ctx, const http::Request& request, const Form& form,
                            std::string& client_id) {
  auto client = authenticate_client(ctx, request, form);
  if (!client) {
    return client.error();
  }
  client_id = client->client_id;
  auto type = form.find("grant_type");
  if (type == form.end() || type->second.empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "grant_type is required");
  }
  const Grant* grant = find_grant(type->second);
  if (!grant) {
    return oauth_error(OAuthErrc::UnsupportedGrantType, "grant_type is not supported");
  }
  const auto& allowed = client->grant_types;
  if (std::find(allowed.begin(), allowed.end(), type->second) == allowed.end()) {
    return oauth_error(OAuthErrc::UnauthorizedClient,
                       "the client is not allowed to use this grant_type");
  }
  return Admitted{std::move(*client), grant};
}

}  // namespace

http::Response token_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return refuse(form.error(), {});
  }
  std::string client_id;
  auto admitted = admit(ctx, request, *form, client_id);
  if (!admitted) {
    return refuse(admitted.error(), client_id);
  }
  auto body = admitted->grant->run(ctx, request, *form, admitted->client);
  if (!body) {
    return refuse(body.error(), client_id);
  }
  return token_response(std::move(*body));
}

void token_endpoint_async(const AsContext& ctx, const http::Request& request,
                          std::function<void(http::Response)> done) {
  auto form = read_form(request);
  if (!form) {
    done(refuse(form.error(), {}));
    return;
  }
  std::string client_id;
  auto admitted = admit(ctx, request, *form, client_id);
  if (!admitted) {
    done(refuse(admitted.error(), client_id));
    return;
  }
  const Grant& grant = *admitted->grant;
  if (grant.run_deferred == nullptr) {
    auto body = grant.run(ctx, request, *form, admitted->client);
    done(body ? token_response(std::move(*body)) : refuse(body.error(), client_id));
    return;
  }
  auto deferred = grant.run_deferred(ctx, request, *form, admitted->client);
  if (!deferred) {
    done(refuse(deferred.error(), client_id));
    return;
  }
  if (!deferred->token.store_record) {
    log_token_issued(deferred->token);  // self-contained: nothing to wait for
    done(token_response(std::move(deferred->body)));
    return;
  }
  // The response leaves only from the completion, once the token's record is durable: a client
  // never holds a token the store forgot (store.hpp). Meanwhile this thread serves others.
  auto pending = std::make_shared<DeferredTokenResponse>(std::move(*deferred));
  const store::TokenRecord& record = pending->token.record;  // copied by put_token_async
  ctx.store->put_token_async(record, [pending, done = std::move(done),
                                      client_id = std::move(client_id)](Result<void> put) mutable {
    if (!put) {
      done(refuse(oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                              "store failed: " + put.error().message()),
                  client_id));
      return;
    }
    log_token_issued(pending->token);
    done(token_response(std::move(pending->body)));
  });
}

}  // namespace fapigate::as
