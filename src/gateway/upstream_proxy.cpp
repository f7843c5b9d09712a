#include "gateway/upstream_proxy.hpp"

#include <array>
#include <vector>

#include "core/base64url.hpp"
#include "core/strings.hpp"

namespace fapigate::gw {
namespace {

// RFC 9110 §7.6.1 hop-by-hop fields, plus those the gateway sets itself.
constexpr std::array<std::string_view, 9> kHopByHop{
    "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
    "TE", "Trailer", "Transfer-Encoding", "Upgrade"};

// Identity that only the gateway may assert (RFC 9440 §2.4: strip or overwrite).
constexpr std::array<std::string_view, 8> kGatewayOwned{
    "Client-Cert", "Client-Cert-Chain", "X-Forwarded-For", "X-Forwarded-Proto",
    "X-Forwarded-Host", "Forwarded", "x-fapi-interaction-id", "Host"};

bool listed(std::string_view name, auto const& list) {
  for (auto n : list) {
    if (core::iequals(n, name)) {
      return true;
    }
  }
  return false;
}

// RFC 9110 §7.6.1: fields named in Connection are hop-by-hop too.
std::vector<std::string> connection_options(const http::Headers& headers) {
  std::vector<std::string> out;
  for (const auto& f : headers) {
    if (!core::iequals(f.name, "Connection")) {
      continue;
    }
    core::for_each_part(f.value, ',', [&](std::string_view token) {
      token = core::trim(token);
      if (!token.empty()) {
        out.emplace_back(token);
      }
      return true;
    });
  }
  return out;
}

bool named_in(std::string_view name, const std::vector<std::string>& options) {
  for (const auto& o : options) {
    if (core::iequals(o, name)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string client_cert_header_value(const std::string& der) {
  std::string value(1, ':');  // appends, not operator+ (GCC 12 -O3 -Wrestrict false positive)
  value.append(core::base64_encode(der)).append(1, ':');
  return value;
}

bool safe_field_value(std::string_view v) {
  // Three vectorised memchr scans: find_first_of with a set calls memchr once per character of
  // v (~15 instructions a byte), and this runs over every forwarded value (a Bearer token, the
  // ~1.5 kB Client-Cert) twice per proxied request.
  return v.find('\r') == std::string_view::npos && v.find('\n') == std::string_view::npos &&
         v.find('\0') == std::string_view::npos;
}

std::optional<http::ClientRequest> make_upstream_request(const http::Request& incoming,
                                                         const std::string& upstream_base,
                                                         const std::string& interaction_id,
                                                         const ForwardOptions& options) {
  http::ClientRequest out;
  out.method = incoming.method;
  std::string_view base = upstream_base;
  while (!base.empty() && base.back() == '/') {
    base.remove_suffix(1);
  }
  out.url = std::string(base);
  out.url += options.target.empty() ? incoming.target : options.target;
  const auto conn_options = connection_options(incoming.headers);
  std::string forwarded_for;
  std::string forwarded_proto;
  std::string forwarded_host;
  for (const auto& f : incoming.headers) {
    if (options.trusted_proxy) {
      // A trusted proxy's view of the client is the start of the chain (RFC 7239 §5.2 style).
      if (core::iequals(f.name, "X-Forwarded-For")) {
        forwarded_for += forwarded_for.empty() ? f.value : ", " + f.value;
      } else if (core::iequals(f.name, "X-Forwarded-Proto") && forwarded_proto.empty()) {
        forwarded_proto = f.value;
      } else if (core::iequals(f.name, "X-Forwarded-Host") && forwarded_host.empty()) {
        forwarded_host = f.value;
      }
    }
    if (listed(f.name, kHopByHop) || listed(f.name, kGatewayOwned) ||
        named_in(f.name, conn_options) || (options.strip && named_in(f.name, *options.strip)) ||
        (!options.authorization.empty() && core::iequals(f.name, "Authorization"))) {
      continue;
    }
    if (!safe_field_value(f.value)) {
      return std::nullopt;
    }
    out.headers.add(f.name, f.value);
  }
  if (!options.authorization.empty()) {
    out.headers.add("Authorization", options.authorization);
  }
  // RFC 9440 §2.4: only a certificate this hop verified (or a trusted proxy vouched for).
  if (options.certificate && options.certificate->chain_verified) {
    const auto& cert = *options.certificate;
    std::string value;
    if (cert.der_base64.empty()) {
      value = client_cert_header_value(cert.der);
    } else {
      value.reserve(cert.der_base64.size() + 2);
      value.append(1, ':').append(cert.der_base64).append(1, ':');
    }
    out.headers.add("Client-Cert", std::move(value));
    // RFC 9440 §2.3: the intermediates this hop verified the certificate through, if any (a
    // certificate vouched for by a trusted proxy comes without: its proxy's chain is stripped).
    if (!cert.chain_field.empty()) {
      out.headers.add("Client-Cert-Chain", cert.chain_field);
    }
  }
  if (options.add) {
    for (const auto& f : *options.add) {
      out.headers.add(f.name, f.value);
    }
  }
  out.headers.add("x-fapi-interaction-id", interaction_id);
  forwarded_for += forwarded_for.empty() ? incoming.remote_address : ", " + incoming.remote_address;
  out.headers.add("X-Forwarded-For", std::move(forwarded_for));
  if (forwarded_proto.empty()) {
    forwarded_proto = incoming.tls ? "https" : "http";
  }
  out.headers.add("X-Forwarded-Proto", std::move(forwarded_proto));
  if (forwarded_host.empty()) {
    if (auto host = incoming.headers.get("Host")) {
      forwarded_host = std::string(*host);
    }
  }
  if (!forwarded_host.empty()) {
    out.headers.add("X-Forwarded-Host", std::move(forwarded_host));
  }
  for (const auto& f : out.headers) {
    if (!safe_field_value(f.value) || !safe_field_value(f.name)) {
      return std::nullopt;
    }
  }
  if (!safe_field_value(out.url)) {
    return std::nullopt;
  }
  out.body = incoming.body;
  return out;
}

http::ClientRequest make_upstream_request(const http::Request& incoming,
                                          const std::string& upstream_base,
                                          const std::string& interaction_id) {
  http::ClientRequest out;
  out.method = incoming.method;
  std::string_view base = upstream_base;
  while (!base.empty() && base.back() == '/') {
    base.remove_suffix(1);
  }
  out.url = std::string(base) + incoming.target;
  const auto options = connection_options(incoming.headers);
  for (const auto& f : incoming.headers) {
    if (listed(f.name, kHopByHop) || listed(f.name, kGatewayOwned) || named_in(f.name, options)) {
      continue;
    }
    out.headers.add(f.name, f.value);
  }
  // RFC 9440 §2.4: only a certificate this hop verified is vouched for upstream.
  if (incoming.peer_certificate && incoming.peer_certificate->chain_verified) {
    const auto& cert = *incoming.peer_certificate;
    // The session encodes it once per connection; a view built by hand may not carry it.
    std::string value;
    if (cert.der_base64.empty()) {
      value = client_cert_header_value(cert.der);
    } else {
      value.reserve(cert.der_base64.size() + 2);
      value.append(1, ':').append(cert.der_base64).append(1, ':');
    }
    out.headers.add("Client-Cert", std::move(value));
    if (!cert.chain_field.empty()) {
      out.headers.add("Client-Cert-Chain", cert.chain_field);
    }
  }
  out.headers.add("x-fapi-interaction-id", interaction_id);
  out.headers.add("X-Forwarded-For", incoming.remote_address);
  out.headers.add("X-Forwarded-Proto", incoming.tls ? "https" : "http");
  if (auto host = incoming.headers.get("Host")) {
    out.headers.add("X-Forwarded-Host", std::string(*host));
  }
  out.body = incoming.body;
  return out;
}

http::Response make_client_response(http::Response upstream, const std::string& interaction_id) {
  http::Response out;
  out.status = upstream.status;
  const auto options = connection_options(upstream.headers);
  for (auto& f : upstream.headers.take_fields()) {
    if (listed(f.name, kHopByHop) || named_in(f.name, options) ||
        core::iequals(f.name, "Content-Length") ||
        core::iequals(f.name, "x-fapi-interaction-id")) {
      continue;
    }
    out.headers.add(std::move(f.name), std::move(f.value));
  }
  out.headers.add("x-fapi-interaction-id", interaction_id);
  out.body = std::move(upstream.body);
  return out;
}

}  // namespace fapigate::gw
