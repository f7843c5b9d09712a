// fapigate's own HTTP message types. as/, gateway/ and demoapi/ see only these, never Beast, so
// they build and test without sockets (ARCHITECTURE.md). The session converts a Beast message
// into a Request once per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace fapigate::http {

// Header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).
class Headers {
public:
  struct Field {
    std::string name;
    std::string value;
  };

  // The first value of `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  void add(std::string name, std::string value);
  // Replaces every field of that name by one.
  void set(std::string name, std::string value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  // The fields, moved out (this set is left empty): for copying a message into another without
  // allocating every name and value again.
  std::vector<Field> take_fields() { return std::exchange(fields_, {}); }
  std::size_t size() const { return fields_.size(); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }

private:
  static constexpr std::size_t kTypicalFieldCount = 16;
  std::vector<Field> fields_;
};

// The client certificate of a TLS connection, verified against the listener's CA bundle by the
// TLS layer before the request is read (see chain_verified). Computed once per connection.
struct PeerCertificate {
  std::string der;
  std::string x5t_s256;   // RFC 8705 §3.1: base64url(SHA-256(DER)), no padding
  std::string subject_dn; // RFC 4514 string
  std::string issuer_dn;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_uri;
  std::vector<std::string> san_ip;
  std::vector<std::string> san_email;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  // True when the chain verified against the listener's client_ca_file. Only a listener with
  // client_cert: required_any (the AS, for self_signed_tls_client_auth, RFC 8705 §2.2) hands
  // over an unverified certificate; its key was still proven in the handshake. Fails closed:
  // a view built by hand is unverified until someone vouches for it.
  bool chain_verified = false;
  // Standard base64 of der (RFC 4648 §4, padded): the RFC 9440 Client-Cert value between the
  // colons. Filled once per connection by the server's session; may be empty in a view built
  // by hand.
  std::string der_base64;
  // RFC 9440 §2.3 Client-Cert-Chain value: the intermediate CA certificates the chain was
  // verified through, from the one that issued this certificate up, without it and without the
  // trust anchor, each ":base64(DER):", comma separated. Empty when a trust anchor issued it
  // directly, or when the chain did not verify. Filled once per connection by the TLS layer.
  std::string chain_field;
};

struct Request {
  std::string method;          // as received, e.g. "POST"
  std::string target;          // raw request-target
  std::string path;            // target up to '?', not percent-decoded
  std::string query;           // after '?', may be empty
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP address (no port)
  std::uint16_t local_port = 0;
  bool tls = false;
  std::string sni;             // server name the client asked for, if any
  std::shared_ptr<const PeerCertificate> peer_certificate;  // null when none was presented
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
};

// Called exactly once per request, from any thread.
using Responder = std::function<void(Response)>;

// RFC 9110 §5.6.7 IMF-fixdate of `epoch` (e.g. "Sun, 06 Nov 1994 08:49:37 GMT"), independent of
// the locale; empty if the time cannot be represented.
std::string http_date(std::int64_t epoch);
// The current time as http_date(); formatted once per second per thread, so adding it to every
// response costs a clock read and a compare.
const std::string& http_date_now();

class Handler {
public:
  virtual ~Handler() = default;
  virtual void handle(Request request, Responder respond) = 0;
};

// A request to another server (JWKS, introspection, upstream).
struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http:// or https://
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
  // Bound on reaching the server when a new connection is needed (resolve, TCP connect, TLS
  // handshake), inside `timeout`; 0: only `timeout`. Failing it means nothing was sent, which
  // the caller may treat as safe to try elsewhere (http::ClientErrc::ConnectTimeout).
  std::chrono::milliseconds connect_timeout{0};
};

// Errors of an http::Client's own (the others are system, asio and beast codes).
enum class ClientErrc {
  // The request's connect_timeout elapsed before a new connection was ready: nothing was sent.
  ConnectTimeout = 1,
};
ErrorCode make_error_code(ClientErrc e);

// Outbound HTTP, implemented by http/ on Beast and by fakes in tests. `done` runs exactly once,
// on a thread of the client's own; a transport failure (refused, timeout, TLS) is an error.
class Client {
public:
  virtual ~Client() = default;
  virtual void send(ClientRequest request, std::function<void(Result<Response>)> done) = 0;
};

}  // namespace fapigate::http

template <>
struct boost::system::is_error_code_enum<fapigate::http::ClientErrc> : std::true_type {};
