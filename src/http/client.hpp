// Outbound HTTP/1.1 over Beast: plain or TLS (server verified against a CA file or the system
// store, optional client certificate), a keep-alive pool per origin, timeouts. Implements
// http::Client (message.hpp). Runs its own io_context thread(s); callbacks come from there,
// except in caller-worker mode (see ClientOptions::use_caller_worker).
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::http {

struct ClientOptions {
  std::string ca_file;           // trust anchors for https (empty: system default paths)
  std::string client_cert_file;  // optional mTLS client certificate (PEM)
  std::string client_key_file;
  std::size_t max_response_bytes = 1024 * 1024;
  std::size_t max_idle_per_origin = 16;
  std::uint32_t threads = 1;
  // Caller-worker mode: send() called on an http::Server worker thread runs the exchange on that
  // worker's io_context, with a keep-alive pool per worker, and calls back on that same thread
  // (never inside send()); no thread hop per request. Calls from any other thread use the
  // client's own threads. Only for callers that never block a worker waiting for the answer
  // (a synchronous wait there would deadlock): the gateway's upstream.
  bool use_caller_worker = false;
};

// A client with its own worker thread(s); destroyed cleanly (pending calls fail with an error).
// Errors: errc::invalid_argument (bad URL, method or header), errc::timed_out (the request's
// timeout elapsed), ClientErrc::ConnectTimeout, the socket's own codes (e.g. connection_refused), TLS handshake errors
// (server not verified, name mismatch), beast's body_limit for a response over
// max_response_bytes, operation_aborted when the client is destroyed meanwhile. An idempotent
// request that fails on a reused keep-alive connection before any response byte is retried
// once on a fresh connection.
[[nodiscard]] Result<std::shared_ptr<Client>> make_client(const ClientOptions& options);

// Blocking convenience for the CLI and tests: sends and waits (uses a temporary client).
[[nodiscard]] Result<Response> send_sync(const ClientOptions& options, ClientRequest request);

}  // namespace fapigate::http
