#include "http/request_head.hpp"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <climits>
#include <iterator>

#include "core/strings.hpp"

namespace fapigate::http::detail {

namespace bhttp = boost::beast::http;

void apply_limits(RequestParser& parser, const config::Limits& limits) {
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
}

std::optional<Refusal> refusal_for_read_error(const boost::beast::error_code& ec) {
  if (!ec || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    return std::nullopt;
  }
  if (ec == bhttp::error::header_limit) {
    return Refusal{431, "request header too large"};
  }
  if (ec == bhttp::error::body_limit) {
    return Refusal{413, "request body too large"};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Refusal{400, "malformed request"};
  }
  return std::nullopt;  // transport: timeout, reset, TLS
}

std::optional<Refusal> check_request_head(const BeastRequest& req, const config::Limits& limits) {
  if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) > limits.max_header_count) {
    return Refusal{431, "too many header fields"};
  }
  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any request with more
  // than one (the gateway routes on Host: two could name two hosts to two readers).
  const auto hosts = req.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
    return Refusal{400, "exactly one Host header field is required"};
  }
  // RFC 9112 §3.2 / RFC 3986 §2.1: a request-target is visible ASCII, any other octet arrives
  // percent-encoded. Beast lets 0x80-0xFF through; the gateway would forward them and its
  // upstream client refuse the URL, a 502 (logged as an upstream failure) for the client's own
  // malformed input.
  for (const unsigned char c : req.target()) {
    if (c < 0x21 || c > 0x7e) {
      return Refusal{400, "malformed request target"};
    }
  }
  // RFC 9112 §6.1: Beast reads a body framed only by chunked; any other coding leaves the body
  // length undetermined (Beast would read none, and the rest of the stream as the next
  // request: request smuggling behind a proxy that honours the coding). A request whose
  // chunked is not the final coding is a 400; a coding fapigate does not decode (gzip before
  // chunked) is refused too, as §6.1 allows (501 would invite a retry with the same body).
  if (req.count(bhttp::field::transfer_encoding) > 0) {
    // RFC 9112 §6.1: in HTTP/1.0 Transfer-Encoding is faulty framing, whatever it says.
    if (req.version() < 11) {
      return Refusal{400, "unsupported Transfer-Encoding"};
    }
    std::size_t codings = 0;
    bool chunked_only = true;
    for (const auto& f : req) {
      if (f.name() != bhttp::field::transfer_encoding) {
        continue;
      }
      for (auto coding : bhttp::token_list(f.value())) {
        ++codings;
        chunked_only = chunked_only && core::iequals(coding, "chunked");
      }
    }
    if (codings != 1 || !chunked_only || !req.chunked()) {
      return Refusal{400, "unsupported Transfer-Encoding"};
    }
  }
  // RFC 9110 §5.5: no CR, LF or NUL in a value (obs-fold included, RFC 9112 §5.2): handlers
  // copy values into logs and upstream requests.
  for (const auto& f : req) {
    const auto v = f.value();
    if (v.find('\r') != v.npos || v.find('\n') != v.npos || v.find('\0') != v.npos) {
      return Refusal{400, "malformed header field"};
    }
  }
  return std::nullopt;
}

Request to_request(BeastRequest&& req) {
  Request request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  const auto q = request.target.find('?');
  request.path = request.target.substr(0, q);
  request.query = q == std::string::npos ? std::string() : request.target.substr(q + 1);
  for (const auto& f : req) {
    request.headers.add(std::string(f.name_string()), std::string(f.value()));
  }
  request.body = std::move(req.body());
  return request;
}

}  // namespace fapigate::http::detail
