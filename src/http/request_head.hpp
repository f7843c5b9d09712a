// Internal to http/ (includes Beast): how the server reads one request, shared by
// Session<Stream> (session_impl.hpp) and tests/http/http_request_head_fuzz.cpp so that the fuzz
// target exercises exactly the parser configuration and refusals the listeners use.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string_view>

#include "config/model.hpp"
#include "http/message.hpp"

namespace fapigate::http::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// A status the server answers itself (then closes), with a static description.
struct Refusal {
  int status = 400;
  std::string_view description;
};

// A fresh parser's header and body limits from the listener's configuration.
void apply_limits(RequestParser& parser, const config::Limits& limits);

// The answer to a read that failed in the parser: 431 header too large, 413 body too large,
// 400 malformed; nullopt for a failure that is not the peer's message (the caller closes
// quietly: end of stream, timeout, a message cut short by a closed connection).
std::optional<Refusal> refusal_for_read_error(const boost::beast::error_code& ec);

// Rules on a complete message that Beast accepts but fapigate does not (RFC 9112): too many
// header fields (431), a missing or repeated Host (§3.2), a Transfer-Encoding other than
// plain "chunked" (§6.1: Beast would read such a body as empty, a request-smuggling gap), or a
// field value with CR, LF or NUL.
std::optional<Refusal> check_request_head(const BeastRequest& req, const config::Limits& limits);

// fapigate's own Request from a parsed message: method, raw target split at the first '?',
// header fields in order, body. Connection facts (peer, TLS, SNI) are the caller's.
Request to_request(BeastRequest&& req);

}  // namespace fapigate::http::detail
