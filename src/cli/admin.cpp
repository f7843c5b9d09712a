#include "cli/admin.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "http/server.hpp"

namespace fapigate::cli {
namespace {

class AdminHandler final : public http::Handler {
public:
  AdminHandler(const core::metrics::Registry& registry, std::vector<ReadinessCheck> checks,
               std::vector<AdminDocument> documents)
      : registry_(registry), checks_(std::move(checks)), documents_(std::move(documents)) {}

  void handle(http::Request request, http::Responder respond) override {
    respond(dispatch(request));
  }

private:
  http::Response dispatch(const http::Request& req) const {
    const AdminDocument* document = nullptr;
    for (const auto& d : documents_) {
      document = d.path == req.path ? &d : document;
    }
    const bool known = req.path == "/metrics" || req.path == "/healthz" ||
                       req.path == "/readyz" || document != nullptr;
    if (!known) {
      return http::Response::json(404, R"({"error":"not_found"})");
    }
    if (req.method != "GET") {
      auto r = http::Response::json(405, R"({"error":"method_not_allowed"})");
      r.headers.add("Allow", "GET");
      return r;
    }
    http::Response r;
    if (req.path == "/metrics") {
      r.status = 200;
      r.headers.add("Content-Type", std::string(core::metrics::kContentType));
      r.body = registry_.render();
    } else if (req.path == "/healthz") {
      r = http::Response::json(200, R"({"status":"ok"})");
    } else if (document) {
      std::string body = document->body();
      if (body.empty()) {
        return http::Response::json(404, R"({"error":"not_found"})");
      }
      r = http::Response::json(200, std::move(body));
    } else {
      r = readiness();
    }
    // A stale answer from a cache in between would hide an outage or a recovery.
    r.headers.add("Cache-Control", "no-store");
    return r;
  }

  http::Response readiness() const {
    boost::json::object checks;
    bool ready = true;
    for (const auto& c : checks_) {
      std::string failure = c.failure();
      ready = ready && failure.empty();
      checks[c.name] = failure.empty() ? std::string("ok") : std::move(failure);
    }
    boost::json::object body;
    body["status"] = ready ? "ready" : "not_ready";
    body["checks"] = std::move(checks);
    return http::Response::json(ready ? 200 : 503, boost::json::serialize(body));
  }

  const core::metrics::Registry& registry_;
  const std::vector<ReadinessCheck> checks_;
  const std::vector<AdminDocument> documents_;
};

}  // namespace

std::shared_ptr<http::Handler> make_admin_handler(const core::metrics::Registry& registry,
                                                  std::vector<ReadinessCheck> checks,
                                                  std::vector<AdminDocument> documents) {
  return std::make_shared<AdminHandler>(registry, std::move(checks), std::move(documents));
}

void register_server_metrics(core::metrics::Registry& registry, const http::Server& server) {
  const http::Server* s = &server;
  registry.counter_fn("fapigate_http_connections_accepted_total",
                      "Connections accepted on every listener.", {},
                      [s] { return s->stats().connections_accepted; });
  registry.gauge_fn("fapigate_http_connections_active", "Connections open now.", {},
                    [s] { return static_cast<double>(s->stats().active_connections); });
  registry.counter_fn("fapigate_http_requests_total", "Requests handed to a handler.", {},
                      [s] { return s->stats().requests; });
  registry.counter_fn("fapigate_http_refused_total",
                      "Requests the server refused itself (limits, unparseable requests).", {},
                      [s] { return s->stats().refused; });
  registry.counter_fn("fapigate_http_tls_handshake_failures_total",
                      "TLS handshakes that failed (no or untrusted client certificate, "
                      "protocol or cipher mismatch, timeout).",
                      {}, [s] { return s->stats().tls_handshake_failures; });
  registry.counter_fn("fapigate_http_handler_errors_total",
                      "Requests answered 500 because a handler threw or dropped its responder.", {},
                      [s] { return s->stats().handler_errors; });
}

}  // namespace fapigate::cli
