// libFuzzer target: the small parsers of outside header values in the gateway, the first byte
// selecting one (STYLE.md §7: one target, many little parsers):
//   0 Host (gw::host_of)               1 request path (gw::normalize_path, gw::match_route)
//   2 x-fapi-interaction-id            3 Authorization / access_token in the query (extract_bearer)
//   4 trusted_proxies CIDR + peer      5 forwarding rewrite (gw::make_upstream_request)
//   6 upstream response rewrite (gw::make_client_response)
// Each asserts what the gateway relies on afterwards: a host without port or separators, a
// path in RFC 3986 §6.2.2 normal form with no dot segment or encoded separator (idempotent), an
// echoed interaction id that cannot inject, a token that is one RFC 6750 §2.1 b64token, and
// forwarded messages without hop-by-hop fields, spoofed identity fields or CR/LF/NUL.
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "core/cidr.hpp"
#include "core/strings.hpp"
#include "gateway/gateway_service.hpp"
#include "gateway/route_policy.hpp"
#include "gateway/upstream_proxy.hpp"

namespace {

namespace gw = fapigate::gw;
namespace core = fapigate::core;
using fapigate::http::Headers;
using fapigate::http::Request;

[[noreturn]] void violated() {
  std::abort();
}

bool unsafe(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// "name: value" lines; a line without ':' is a name with an empty value.
void add_lines(Headers& h, std::string_view text) {
  for (auto line : core::split(text, '\n')) {
    if (line.empty()) {
      continue;
    }
    const auto colon = line.find(':');
    h.add(std::string(line.substr(0, colon)),
          colon == std::string_view::npos ? std::string()
                                          : std::string(core::trim(line.substr(colon + 1))));
  }
}

void host(std::string_view in) {
  auto h = gw::host_of(in);
  if (!h) {
    return;
  }
  if (h->empty() || h->size() > 255) {
    violated();
  }
  const bool bracketed = h->front() == '[';
  for (char c : *h) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '\\' || std::isupper(u) ||
        (c == ':' && !bracketed)) {
      violated();
    }
  }
  if (bracketed && h->back() != ']') {
    violated();  // "[::1]:443" keeps the brackets and drops the port
  }
  if (h->size() > 1 && h->back() == '.') {
    violated();
  }
  auto again = gw::host_of(*h);
  if (!again || *again != *h) {
    violated();
  }
}

bool hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

void path(std::string_view in) {
  auto p = gw::normalize_path(in);
  if (p) {
    if (p->empty() || p->front() != '/' || p->find("//") != std::string::npos ||
        p->find('\\') != std::string::npos || p->size() > in.size()) {
      violated();
    }
    for (std::size_t i = 0; i < p->size(); ++i) {
      const auto u = static_cast<unsigned char>((*p)[i]);
      if (u < 0x20 || u == 0x7f) {
        violated();
      }
      if (u == '%') {
        // Upper-case hex (§6.2.2.1), never an unreserved character (§6.2.2.2) nor '/'.
        if (i + 2 >= p->size() || !hex((*p)[i + 1]) || !hex((*p)[i + 2]) ||
            std::islower(static_cast<unsigned char>((*p)[i + 1])) ||
            std::islower(static_cast<unsigned char>((*p)[i + 2]))) {
          violated();
        }
        const int v = std::stoi(p->substr(i + 1, 2), nullptr, 16);
        if (std::isalnum(v) || v == '-' || v == '.' || v == '_' || v == '~' || v == '/' ||
            v == '%' || v == '\\' || v < 0x20 || v == 0x7f) {
          violated();
        }
      }
    }
    for (auto seg : core::split(std::string_view(*p).substr(1), '/')) {
      seg = seg.substr(0, seg.find(';'));
      if (seg == "." || seg == "..") {
        violated();
      }
    }
    auto again = gw::normalize_path(*p);
    if (!again || *again != *p) {
      violated();  // normalisation is idempotent: the upstream sees what was matched
    }
  }
  // The route the gateway picks is matched on the normalised path, and that path is forwarded.
  static const std::vector<fapigate::config::Route> routes = [] {
    std::vector<fapigate::config::Route> r(3);
    r[0].path = "/accounts/{id}/balances";
    r[0].methods = {"GET"};
    r[1].path = "/admin*";
    r[1].host = "admin.example";
    r[2].path = "/open-banking/*";
    return r;
  }();
  auto m = gw::match_route(routes, "GET", in, "admin.example");
  if (m.route != nullptr && (!p || m.path != *p || m.error)) {
    violated();
  }
  if (!p && m.error != gw::GwErrc::PathInvalid) {
    violated();
  }
}

void interaction_id(std::string_view in) {
  Request req;
  add_lines(req.headers, in);
  const std::string id = gw::interaction_id_for(req);
  if (id.empty() || id.size() > 128) {
    violated();
  }
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      violated();  // echoed into a response header and into logs
    }
  }
  auto sent = req.headers.get("x-fapi-interaction-id");
  if (!sent || *sent != id) {
    if (id.size() != 36 || id[14] != '4') {
      violated();  // not an echo, so a fresh RFC 9562 v4 UUID
    }
  }
}

bool b64token(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) ||
                          std::string_view("-._~+/").find(t[i]) != std::string_view::npos)) {
    ++i;
  }
  if (i == 0) {
    return false;
  }
  for (; i < t.size(); ++i) {
    if (t[i] != '=') {
      return false;
    }
  }
  return true;
}

void bearer(std::string_view in) {
  // First line: the query; the others: Authorization values.
  const auto nl = in.find('\n');
  Request req;
  req.query = std::string(in.substr(0, nl));
  std::size_t n = 0;
  if (nl != std::string_view::npos) {
    for (auto v : core::split(in.substr(nl + 1), '\n')) {
      req.headers.add(n % 2 ? "authorization" : "Authorization", std::string(v));
      ++n;
    }
  }
  const auto r = gw::extract_bearer(req);
  if (r.error.has_value() == !r.token.empty()) {
    violated();
  }
  if (r.error) {
    return;
  }
  if (n != 1 || !b64token(r.token)) {
    violated();  // RFC 6750 §2.1; a repeated Authorization is ambiguous
  }
  for (auto part : core::split(req.query, '&')) {
    if (part.substr(0, part.find('=')) == "access_token") {
      violated();  // FAPI 1.0 Part 1 §6.2.1-3: never from the query
    }
  }
  const std::string_view v = core::trim(*req.headers.get("Authorization"));
  if (!core::iequals(v.substr(0, 7), "Bearer ") || v.find(r.token) == std::string_view::npos) {
    violated();
  }
}

void cidr(std::string_view in) {
  const auto nl = in.find('\n');
  const std::string_view range = in.substr(0, nl);
  const std::string_view addr =
      nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  auto c = core::parse_cidr(range);
  if (!c) {
    return;
  }
  if (c->prefix_bits > 128) {
    violated();
  }
  core::CidrSet set({*c});
  // The range contains its own base address; a bare address is a /32 or /128 of itself.
  const std::string_view base = range.substr(0, range.find('/'));
  if (!set.contains(base)) {
    violated();
  }
  if (set.contains(addr) && !core::parse_cidr(addr)) {
    violated();  // an unparsable peer address is never trusted
  }
  if (core::CidrSet{}.contains(addr)) {
    violated();
  }
}

template <class Names>
bool listed(std::string_view name, const Names& names) {
  for (auto n : names) {
    if (core::iequals(n, name)) {
      return true;
    }
  }
  return false;
}

constexpr std::array<std::string_view, 9> kHopByHop = {"Connection",
                                                       "Keep-Alive",
                                                       "Proxy-Connection",
                                                       "Proxy-Authenticate",
                                                       "Proxy-Authorization",
                                                       "TE",
                                                       "Trailer",
                                                       "Transfer-Encoding",
                                                       "Upgrade"};

void forward(std::uint8_t flags, std::string_view in) {
  const auto nl = in.find('\n');
  Request req;
  req.method = "GET";
  req.target = std::string(in.substr(0, nl));
  req.remote_address = "192.0.2.7";
  req.tls = (flags & 1) != 0;
  if (nl != std::string_view::npos) {
    add_lines(req.headers, in.substr(nl + 1));
  }
  fapigate::http::PeerCertificate cert;
  cert.der = "\x30\x03\x02\x01\x01";
  cert.chain_verified = (flags & 4) != 0;
  const std::vector<std::string> strip = {"X-Claim-Sub", "X-Scopes"};
  const std::vector<Headers::Field> add = {{"X-Claim-Sub", "alice"}};
  gw::ForwardOptions opts;
  opts.certificate = (flags & 2) ? &cert : nullptr;
  opts.trusted_proxy = (flags & 8) != 0;
  opts.authorization = (flags & 16) ? "Bearer upstream.jwt" : "";
  opts.strip = &strip;
  opts.add = &add;
  opts.target = (flags & 32) ? "/normalised?q=1" : "";
  const std::string interaction = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  auto out = gw::make_upstream_request(req, "http://127.0.0.1:9/", interaction, opts);
  if (!out) {
    bool any_unsafe = unsafe(req.target);
    for (const auto& f : req.headers) {
      any_unsafe = any_unsafe || unsafe(f.value) || unsafe(f.name);
    }
    if (!any_unsafe) {
      violated();  // refused a request with nothing to inject
    }
    return;
  }
  std::vector<std::string> conn_options;
  for (const auto& f : req.headers) {
    if (core::iequals(f.name, "Connection")) {
      for (auto t : core::split(f.value, ',')) {
        if (!core::trim(t).empty())
          conn_options.emplace_back(core::trim(t));
      }
    }
  }
  std::size_t ids = 0, certs = 0, auths = 0, claims = 0;
  for (const auto& f : out->headers) {
    if (unsafe(f.name) || unsafe(f.value) || listed(f.name, kHopByHop)) {
      violated();
    }
    for (const auto& o : conn_options) {
      if (core::iequals(o, f.name) && !core::iequals(f.name, "x-fapi-interaction-id") &&
          !core::iequals(f.name, "X-Forwarded-For") &&
          !core::iequals(f.name, "X-Forwarded-Proto") &&
          !core::iequals(f.name, "X-Forwarded-Host") && !core::iequals(f.name, "Client-Cert") &&
          !core::iequals(f.name, "Authorization") && !core::iequals(f.name, "X-Claim-Sub")) {
        violated();  // RFC 9110 §7.6.1: named in Connection, so hop-by-hop
      }
    }
    if (core::iequals(f.name, "x-fapi-interaction-id")) {
      ++ids;
      if (f.value != interaction)
        violated();
    }
    if (core::iequals(f.name, "Client-Cert") || core::iequals(f.name, "Client-Cert-Chain")) {
      ++certs;
      if (f.value != ":MAMCAQE=:")
        violated();  // only what this hop vouches for (RFC 9440 §2.4)
    }
    if (core::iequals(f.name, "Authorization") && !opts.authorization.empty()) {
      ++auths;
      if (f.value != opts.authorization)
        violated();
    }
    if (core::iequals(f.name, "X-Claim-Sub")) {
      ++claims;
      if (f.value != "alice")
        violated();  // a claim header the client sent itself
    }
    if (core::iequals(f.name, "X-Scopes") || core::iequals(f.name, "Host") ||
        core::iequals(f.name, "Forwarded")) {
      violated();
    }
  }
  if (ids != 1 || certs != (opts.certificate && cert.chain_verified ? 1u : 0u) || auths > 1 ||
      claims != 1 || unsafe(out->url)) {
    violated();
  }
  auto xff = out->headers.get("X-Forwarded-For");
  if (!xff || xff->size() < req.remote_address.size() ||
      xff->substr(xff->size() - req.remote_address.size()) != req.remote_address) {
    violated();  // the last hop is always the real peer
  }
  if (!opts.trusted_proxy && *xff != req.remote_address) {
    violated();  // an untrusted client cannot start the chain
  }
}

void respond(std::string_view in) {
  fapigate::http::Response up;
  add_lines(up.headers, in);
  up.body = "x";
  auto out = gw::make_client_response(up, "id-1");
  std::size_t ids = 0;
  for (const auto& f : out.headers) {
    if (listed(f.name, kHopByHop) || core::iequals(f.name, "Content-Length")) {
      violated();
    }
    if (core::iequals(f.name, "x-fapi-interaction-id")) {
      ++ids;
      if (f.value != "id-1")
        violated();
    }
  }
  if (ids != 1 || out.body != "x") {
    violated();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 7) {
    case 0:
      host(in);
      break;
    case 1:
      path(in);
      break;
    case 2:
      interaction_id(in);
      break;
    case 3:
      bearer(in);
      break;
    case 4:
      cidr(in);
      break;
    case 5:
      if (!in.empty())
        forward(static_cast<std::uint8_t>(in[0]), in.substr(1));
      break;
    case 6:
      respond(in);
      break;
    default:
      break;
  }
  return 0;
}
