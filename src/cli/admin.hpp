// The admin listener's handler: GET /metrics (Prometheus text format 0.0.4), GET /healthz
// (liveness: the process answers), GET /readyz (readiness: every check passes, else 503
// naming the checks that failed) and any AdminDocument (GET /upstream-jwks). Read-only; nothing here changes state, so it needs no
// authentication on loopback (config validation keeps a plain-HTTP admin listener there).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "http/message.hpp"

namespace fapigate::http {
class Server;
}

namespace fapigate::cli {

struct ReadinessCheck {
  std::string name;
  // "" when ready, otherwise why not (shown in the /readyz body). Runs on a server thread.
  std::function<std::string()> failure;
};

// A read-only JSON document served at a fixed path (e.g. /upstream-jwks, the public key
// upstreams verify gateway-signed tokens with). Its body is read on every GET, so a reload is
// seen at once; an empty body is a 404.
struct AdminDocument {
  std::string path;
  std::function<std::string()> body;
};

// `registry` must outlive the handler; checks run in order on every /readyz.
std::shared_ptr<http::Handler> make_admin_handler(const core::metrics::Registry& registry,
                                                  std::vector<ReadinessCheck> checks,
                                                  std::vector<AdminDocument> documents = {});

// The server's own counters (ServerStats) as fapigate_http_* series, read at scrape time.
// `server` must outlive every render of `registry` (the admin listener is one of its own).
void register_server_metrics(core::metrics::Registry& registry, const http::Server& server);

}  // namespace fapigate::cli
