// The sample bank API behind the gateway in the demo and the tests: GET /accounts and
// POST /domestic-payments. It trusts the gateway (plain HTTP on loopback) and echoes who
// called: the token's sub, client_id and scope, and the thumbprint of the RFC 9440 Client-Cert
// the gateway forwarded, so a test can see the whole chain worked.
#pragma once

#include <memory>

#include "http/message.hpp"

namespace fapigate::demoapi {

std::shared_ptr<http::Handler> make_demo_api();

}  // namespace fapigate::demoapi
