// The `passthrough` section and `pid_file`: defaults, host:port backends, server names, the
// listener without TLS, limits, and each mistake named by its key.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.hpp"

using namespace fapigate::config;

namespace {

LoadResult load(const std::string& yaml) { return load_string(yaml, "pt.yaml", "/etc/fapigate"); }

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += e + "\n";
  }
  return s;
}

const std::string kMinimal =
    "passthrough:\n  enabled: true\n  listener: {address: 0.0.0.0, port: 8443}\n"
    "  routes:\n    - {server_name: as.example.com, backend: '127.0.0.1:9444'}\n";

TEST(PassthroughConfig, MinimalWithDefaults) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << all(r);
  const auto& p = r.config.passthrough;
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.listener.address, "0.0.0.0");
  EXPECT_EQ(p.listener.port, 8443);
  ASSERT_EQ(p.routes.size(), 1u);
  EXPECT_EQ(p.routes[0].server_name, "as.example.com");
  EXPECT_EQ(p.routes[0].backend, "127.0.0.1:9444");
  EXPECT_EQ(p.default_backend, "");
  EXPECT_EQ(p.client_hello_timeout_ms, 10'000u);
  EXPECT_EQ(p.connect_timeout_ms, 5'000u);
  EXPECT_EQ(p.idle_timeout_ms, 300'000u);
  EXPECT_EQ(p.max_connections, 10'000u);
}

TEST(PassthroughConfig, EveryKey) {
  auto r = load(
      "pid_file: run/fapigate.pid\n"
      "passthrough:\n  enabled: true\n  listener: {address: '::', port: 443}\n"
      "  routes:\n    - {server_name: '*.api.example.com', backend: 'gw.internal:8445'}\n"
      "    - {server_name: AS.example.com, backend: '[::1]:9444'}\n"
      "  default_backend: 'localhost:8445'\n  client_hello_timeout_ms: 2000\n"
      "  connect_timeout_ms: 1000\n  idle_timeout_ms: 60000\n  max_connections: 50\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.pid_file, "/etc/fapigate/run/fapigate.pid");
  EXPECT_EQ(r.config.passthrough.max_connections, 50u);
  EXPECT_EQ(r.config.passthrough.default_backend, "localhost:8445");
}

TEST(PassthroughConfig, NeedsARouteOrADefault) {
  auto r = load("passthrough:\n  enabled: true\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], "pt.yaml: passthrough.routes: needs at least one route or a default_backend");
}

TEST(PassthroughConfig, ListenerMustNotTerminateTls) {
  auto t = load("passthrough:\n  enabled: true\n  default_backend: 'x:1'\n"
                "  listener: {port: 9000, tls: {cert_file: a.pem, key_file: a.key}}\n");
  EXPECT_NE(all(t).find("pt.yaml: passthrough.listener.tls: a passthrough listener does not "
                        "terminate TLS"),
            std::string::npos)
      << all(t);
}

TEST(PassthroughConfig, BadBackendsAreNamed) {
  for (const std::string bad : {"127.0.0.1", "host:0", "host:65536", ":443", "host:44x",
                                "ho st:1", "[::1:443", "http://x:1"}) {
    auto r = load("passthrough:\n  enabled: true\n  routes:\n"
                  "    - {server_name: a.example, backend: '" + bad + "'}\n");
    ASSERT_EQ(r.errors.size(), 1u) << bad << "\n" << all(r);
    EXPECT_NE(r.errors[0].find("pt.yaml: passthrough.routes[0].backend: '" + bad +
                               "' is not host:port"),
              std::string::npos)
        << r.errors[0];
  }
  auto d = load("passthrough:\n  enabled: true\n  default_backend: nope\n");
  EXPECT_NE(all(d).find("passthrough.default_backend: 'nope' is not host:port"),
            std::string::npos)
      << all(d);
}

TEST(PassthroughConfig, BadAndDuplicateServerNames) {
  auto r = load("passthrough:\n  enabled: true\n  routes:\n"
                "    - {server_name: 'a b', backend: 'x:1'}\n"
                "    - {server_name: 'a.*.example', backend: 'x:1'}\n"
                "    - {server_name: A.example, backend: 'x:1'}\n"
                "    - {server_name: a.EXAMPLE, backend: 'x:1'}\n"
                "    - {backend: 'x:1'}\n");
  const std::string e = all(r);
  EXPECT_NE(e.find("passthrough.routes[0].server_name: 'a b' is not a DNS name"),
            std::string::npos) << e;
  EXPECT_NE(e.find("passthrough.routes[1].server_name: 'a.*.example' is not a DNS name"),
            std::string::npos) << e;
  EXPECT_NE(e.find("passthrough.routes[3].server_name: duplicate server_name 'a.EXAMPLE'"),
            std::string::npos) << e;
  EXPECT_NE(e.find("passthrough.routes[4].server_name: required key is missing"),
            std::string::npos) << e;
}

TEST(PassthroughConfig, BackendThatIsTheListenerItselfIsRefused) {
  auto r = load("passthrough:\n  enabled: true\n  listener: {address: 127.0.0.1, port: 8443}\n"
                "  default_backend: 'localhost:8443'\n");
  EXPECT_NE(all(r).find("passthrough.default_backend: 'localhost:8443' is the passthrough "
                        "listener itself"),
            std::string::npos)
      << all(r);
}

TEST(PassthroughConfig, RangesAndUnknownKeys) {
  auto r = load(kMinimal + "  max_connections: 0\n  idle_timeout_ms: 0\n  backends: []\n");
  const std::string e = all(r);
  EXPECT_NE(e.find("passthrough.max_connections: must be between 1 and 1000000"),
            std::string::npos) << e;
  EXPECT_NE(e.find("passthrough.idle_timeout_ms: must be between 1 and 86400000 milliseconds"),
            std::string::npos) << e;
  EXPECT_NE(e.find("passthrough.backends: unknown key"), std::string::npos) << e;
}

TEST(PassthroughConfig, SharesNoPortWithAnotherListener) {
  auto r = load("admin: {enabled: true, listener: {port: 9464}}\n"
                "passthrough:\n  enabled: true\n  listener: {address: 127.0.0.1, port: 9464}\n"
                "  default_backend: 'x:1'\n");
  EXPECT_NE(all(r).find("passthrough.listener: address 127.0.0.1:9464 is already used by "
                        "admin.listener"),
            std::string::npos)
      << all(r);
}

TEST(PassthroughConfig, DisabledSectionIsOnlyTypeChecked) {
  auto r = load("passthrough:\n  enabled: false\n");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(PassthroughConfig, TheFullExampleSetsEveryKey) {
  auto r = load_file(std::string(FAPIGATE_TEST_DATA_DIR) + "/config/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.config.passthrough.enabled);
  EXPECT_EQ(r.config.passthrough.routes.size(), 2u);
  EXPECT_EQ(r.config.passthrough.default_backend, "127.0.0.1:8445");
  EXPECT_EQ(r.config.pid_file, std::string(FAPIGATE_TEST_DATA_DIR) + "/config/fapigate.pid");
}

TEST(HostPort, Parses) {
  auto a = parse_host_port("example.com:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com");
  EXPECT_EQ(a->port, 443);
  auto b = parse_host_port("[::1]:8443");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_FALSE(parse_host_port("x:123456"));
  EXPECT_FALSE(parse_host_port("[]:1"));
}

}  // namespace
