// libFuzzer target: bytes a client sends to any listener, read exactly as Session<Stream> reads
// them (http/request_head.hpp: Beast's request parser with the listener's header/body limits,
// eager reads, fapigate's own refusals, then to_request), message after message on one
// connection as pipelining does. Run with the default Limits and with tight ones so that the
// 431/413 paths are reached by small inputs.
// Invariants on every request handed to a handler: exactly one Host on HTTP/1.1 and never two
// (RFC 9112 §3.2), body framed only by Content-Length or plain chunked (§6.1, no smuggling
// gap; none in HTTP/1.0), body within max_body_bytes and equal to Content-Length, a target
// of visible ASCII only, field names are tokens and values carry no CR/LF/NUL, header count
// within the limit, and path + '?' + query is the target. Every refusal is 400, 413 or 431.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/model.hpp"
#include "core/strings.hpp"
#include "http/request_head.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace detail = fapigate::http::detail;
using fapigate::config::Limits;

[[noreturn]] void violated() {
  std::abort();
}

bool token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (const unsigned char c : s) {
    const bool tchar =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!tchar) {
      return false;
    }
  }
  return true;
}

bool has_ctl(std::string_view v) {
  return v.find('\r') != v.npos || v.find('\n') != v.npos || v.find('\0') != v.npos;
}

// One connection's worth of bytes: returns how many requests reached the handler.
int read_connection(std::string_view rest, const Limits& limits) {
  int handled = 0;
  for (int round = 0; round < 16 && !rest.empty(); ++round) {
    detail::RequestParser parser;
    detail::apply_limits(parser, limits);
    parser.eager(true);  // as bhttp::async_read does
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      const std::size_t n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(n);
      if (ec == bhttp::error::need_more) {
        ec = {};
        if (n == 0) {
          parser.put_eof(ec);  // the peer has nothing more: a cut-off message
          break;
        }
        continue;
      }
      if (ec) {
        break;
      }
      if (n == 0 && !parser.is_done()) {
        parser.put_eof(ec);
        break;
      }
    }
    if (ec) {
      auto refusal = detail::refusal_for_read_error(ec);
      if (refusal && refusal->status != 400 && refusal->status != 413 && refusal->status != 431) {
        violated();
      }
      if (ec == bhttp::error::body_limit && parser.is_header_done()) {
        const auto len = parser.content_length();
        if (len && *len <= limits.max_body_bytes) {
          violated();  // refused a body within the limit
        }
      }
      return handled;  // the connection closes after any refusal or cut
    }
    if (!parser.is_done()) {
      return handled;
    }
    const auto& msg = parser.get();
    if (auto refusal = detail::check_request_head(msg, limits)) {
      if (refusal->status != 400 && refusal->status != 431) {
        violated();
      }
      return handled;
    }
    // What a handler may rely on.
    const auto hosts = msg.count(bhttp::field::host);
    if (hosts > 1 || (msg.version() >= 11 && hosts != 1)) {
      violated();
    }
    if (static_cast<std::size_t>(std::distance(msg.begin(), msg.end())) > limits.max_header_count) {
      violated();
    }
    if (msg.body().size() > limits.max_body_bytes) {
      violated();
    }
    const auto te = msg.count(bhttp::field::transfer_encoding);
    const auto cl = msg.count(bhttp::field::content_length);
    if (te > 0 && (cl > 0 || te != 1 || !msg.chunked() || msg.version() < 11)) {
      violated();  // two framings, one Beast does not decode, or TE in HTTP/1.0 (§6.1)
    }
    if (te == 0) {
      const auto len = parser.content_length();
      if (msg.body().size() != (len ? *len : 0)) {
        violated();
      }
    }
    if (!token(msg.method_string()) || msg.target().empty()) {
      violated();
    }
    for (const unsigned char c : std::string_view(msg.target())) {
      if (c < 0x21 || c > 0x7e) {
        violated();  // not visible ASCII: RFC 3986 §2.1 wants other octets percent-encoded
      }
    }
    for (const auto& f : msg) {
      if (!token(f.name_string()) || has_ctl(f.value())) {
        violated();
      }
    }
    auto moved = parser.release();
    const std::size_t fields = static_cast<std::size_t>(std::distance(moved.begin(), moved.end()));
    const std::string body = moved.body();
    const auto req = detail::to_request(std::move(moved));
    if (req.headers.size() != fields || req.body != body) {
      violated();
    }
    if (req.path.find('?') != std::string::npos ||
        req.target !=
            (req.target.find('?') == std::string::npos ? req.path : req.path + "?" + req.query)) {
      violated();
    }
    if (req.headers.count("Host") != hosts) {
      violated();
    }
    ++handled;
  }
  return handled;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  read_connection(in, Limits{});
  Limits tight;
  tight.max_header_bytes = 256;
  tight.max_header_count = 4;
  tight.max_body_bytes = 64;
  read_connection(in, tight);
  return 0;
}
