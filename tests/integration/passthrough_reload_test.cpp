// `fapigate serve` with a passthrough listener (one public port, routed by SNI, TLS not
// terminated) in front of the AS's mTLS listener and the gateway; and configuration reload
// (SIGHUP, `fapigate reload`) under continuous keep-alive and new-connection traffic: no request
// fails, a new route answers, new connections see the new server certificate, an invalid file
// is refused with its key logged and the old configuration keeps serving.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/json.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"

namespace fapigate::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAsName = "as.fapigate.test";
constexpr const char* kApiName = "api.fapigate.test";

std::string field(const std::string& json, const char* key) {
  auto o = core::parse_json_object(json, core::JsonLimits{1 << 20, 16});
  return o ? std::string(core::get_string(*o, key).value_or("")) : std::string();
}

// stdout of a shell command.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) {
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
  }
  ::pclose(f);
  return out;
}

class PassthroughReload : public ::testing::Test {
protected:
  void SetUp() override {
    auto cert = init_pki(dir_.path());
    ASSERT_TRUE(cert);
    pki_ = dir_.path() + "/pki/";
    partner_dn_ = cert->subject_dn;
    base_ = find_free_port_base();
    ASSERT_FALSE(issue_server_cert("named").empty());
  }

  // A server certificate from the demo CA for the two public names and loopback, written to
  // pki/NAME.pem and pki/NAME.key; returns its serial as openssl prints it.
  std::string issue_server_cert(const std::string& name) {
    auto ca = crypto::load_ca(read_file_text(pki_ + "ca.pem"), read_file_text(pki_ + "ca.key"));
    EXPECT_TRUE(ca);
    if (!ca) {
      return {};
    }
    crypto::LeafOptions o;
    o.dns_names = {kAsName, kApiName, "localhost"};
    o.ip_addresses = {"127.0.0.1"};
    auto leaf = crypto::issue_server_certificate(*ca, o);
    EXPECT_TRUE(leaf);
    if (!leaf) {
      return {};
    }
    std::ofstream(pki_ + name + ".pem") << leaf->cert_pem;
    std::ofstream(pki_ + name + ".key") << leaf->key_pem;
    ::chmod((pki_ + name + ".key").c_str(), 0600);
    return serial_of_file(pki_ + name + ".pem");
  }

  static std::string serial_of_file(const std::string& pem) {
    return shell("openssl x509 -noout -serial -in " + shell_quote(pem) + " 2>/dev/null");
  }

  // The serial of the certificate the gateway shows a new connection.
  std::string served_serial() const {
    return shell("openssl s_client -connect 127.0.0.1:" + std::to_string(base_ + 2) +
                 " -servername localhost -cert " + shell_quote(pki_ + "partner.pem") + " -key " +
                 shell_quote(pki_ + "partner.key") +
                 " </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null");
  }

  struct Options {
    std::string gateway_cert = "named";
    bool accounts_route = false;
    std::string typo = {};  // replaces "upstream:" of the first route when set
  };

  std::string config_text(const Options& o) const {
    auto port = [&](int i) { return std::to_string(base_ + i); };
    auto tls = [](const std::string& cert) {
      return "      cert_file: pki/" + cert + ".pem\n      key_file: pki/" + cert + ".key\n";
    };
    std::string routes =
        "    - name: payments\n      path: /domestic-payments\n      methods: [POST]\n"
        "      scopes: [payments]\n      " + (o.typo.empty() ? std::string("upstream") : o.typo) +
        ": http://127.0.0.1:" + port(3) + "\n";
    if (o.accounts_route) {
      routes += "    - name: accounts\n      path: /accounts\n      methods: [GET]\n"
                "      scopes: [accounts]\n      upstream: http://127.0.0.1:" + port(3) + "\n";
    }
    return "log:\n  level: info\n"
           "pid_file: fapigate.pid\n"
           "store:\n  sqlite_path: serve.db\n"
           "authorization_server:\n  enabled: true\n"
           "  issuer: https://localhost:" + port(0) + "\n"
           "  mtls_base_url: https://" + kAsName + "\n"
           "  front:\n    port: " + port(0) + "\n    tls:\n" + tls("named") +
           "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls("named") +
           "      client_ca_file: pki/ca.pem\n"
           "  access_token_audiences: [https://" + kApiName + "]\n"
           "  scopes_supported: [accounts, payments]\n"
           "  clients:\n"
           "    - client_id: partner-client\n"
           "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
           "      grant_types: [client_credentials]\n"
           "      scopes: [accounts, payments]\n"
           "gateway:\n  enabled: true\n"
           "  listener:\n    port: " + port(2) + "\n    tls:\n" + tls(o.gateway_cert) +
           "      client_ca_file: pki/ca.pem\n"
           "  issuers:\n"
           "    - issuer: https://localhost:" + port(0) + "\n"
           "      jwks_uri: https://localhost:" + port(0) + "/jwks\n"
           "      ca_file: pki/ca.pem\n"
           "      audiences: [https://" + kApiName + "]\n"
           "  routes:\n" + routes +
           "demo_api:\n  enabled: true\n  listener:\n    port: " + port(3) + "\n"
           "admin:\n  enabled: true\n  listener:\n    port: 0\n"
           "passthrough:\n  enabled: true\n"
           "  listener:\n    address: 127.0.0.1\n    port: 0\n"
           "  routes:\n"
           "    - server_name: " + kAsName + "\n      backend: 127.0.0.1:" + port(1) + "\n"
           "    - server_name: " + kApiName + "\n      backend: 127.0.0.1:" + port(2) + "\n";
  }

  std::string write_config(const Options& o) const {
    const std::string path = dir_.path() + "/fapigate.yaml";
    // Written whole and renamed: a reload never reads half a file.
    std::ofstream(path + ".new") << config_text(o);
    std::rename((path + ".new").c_str(), path.c_str());
    return path;
  }

  std::string tls_args() const {
    return "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
           shell_quote(pki_ + "partner.pem") + " --key " + shell_quote(pki_ + "partner.key") + " ";
  }

  // Through the passthrough port, by name.
  std::string via(const char* name, std::uint16_t port) const {
    return "--resolve " + std::string(name) + ":" + std::to_string(port) + ":127.0.0.1 ";
  }

  std::string token_direct() const {
    auto r = curl(tls_args() +
                  "--data 'grant_type=client_credentials&client_id=partner-client&scope=accounts "
                  "payments' " +
                  shell_quote("https://localhost:" + std::to_string(base_ + 1) + "/token"));
    EXPECT_EQ(r.status, 200) << r.body;
    return field(r.body, "access_token");
  }

  std::string gateway_url(const char* path) const {
    return "https://localhost:" + std::to_string(base_ + 2) + path;
  }

  void sighup() const {
    const std::string text = read_file_text(dir_.path() + "/fapigate.pid");
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(::kill(static_cast<pid_t>(std::stol(text)), SIGHUP), 0);
  }

  // Waits until the server log has `needle` at least `count` times.
  bool wait_log(const std::string& log, const std::string& needle, int count = 1,
                std::chrono::seconds timeout = 30s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = read_file_text(log);
      int n = 0;
      for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
      }
      if (n >= count) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_;
  std::uint16_t base_ = 0;
};

TEST_F(PassthroughReload, OnePublicPortReachesTheAsWithTheClientCertificateAndTheGateway) {
  const std::string path = write_config({});
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
  const std::uint16_t pub = ready_port(server.ready_line(), "passthrough");
  ASSERT_NE(pub, 0) << server.ready_line();

  // The token request goes through the passthrough to the AS's mTLS listener: tls_client_auth
  // only succeeds if the partner certificate reached the AS's own handshake.
  auto t = curl(tls_args() + via(kAsName, pub) +
                "--data 'grant_type=client_credentials&client_id=partner-client&scope=payments' " +
                shell_quote("https://" + std::string(kAsName) + ":" + std::to_string(pub) +
                            "/token"));
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string token = field(t.body, "access_token");
  ASSERT_FALSE(token.empty());

  // The same port, the other name: the gateway, which checks the token's binding to the very
  // certificate presented through the passthrough.
  auto pay = curl(tls_args() + via(kApiName, pub) + "-X POST -H " +
                  shell_quote("Authorization: Bearer " + token) + " " +
                  shell_quote("https://" + std::string(kApiName) + ":" + std::to_string(pub) +
                              "/domestic-payments"));
  EXPECT_EQ(pay.status, 200) << pay.body;

  // Replayed with another certificate through the passthrough: refused by the gateway.
  auto stolen = curl("--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
                     shell_quote(pki_ + "other-partner.pem") + " --key " +
                     shell_quote(pki_ + "other-partner.key") + " " + via(kApiName, pub) +
                     "-X POST -H " + shell_quote("Authorization: Bearer " + token) + " " +
                     shell_quote("https://" + std::string(kApiName) + ":" +
                                 std::to_string(pub) + "/domestic-payments"));
  EXPECT_EQ(stolen.status, 401);

  // An unknown name and no default backend: the connection is closed, no TLS with anyone.
  auto unknown = curl(tls_args() + "--resolve other.fapigate.test:" + std::to_string(pub) +
                      ":127.0.0.1 https://other.fapigate.test:" + std::to_string(pub) + "/");
  EXPECT_NE(unknown.curl_exit, 0);
  EXPECT_EQ(unknown.status, 0);

  // The passthrough's counters on the admin listener.
  const std::uint16_t admin = ready_port(server.ready_line(), "admin");
  auto metrics = curl("http://127.0.0.1:" + std::to_string(admin) + "/metrics");
  EXPECT_NE(metrics.body.find("fapigate_passthrough_connections_total{outcome=\"routed\"} 3"),
            std::string::npos)
      << metrics.body.substr(0, 2000);
  EXPECT_NE(metrics.body.find("fapigate_passthrough_connections_total{outcome=\"no_backend\"} 1"),
            std::string::npos);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(PassthroughReload, ReloadUnderLoadDropsNothingAndTakesEffect) {
  const std::string path = write_config({});
  const std::string log = dir_.path() + "/serve.log";
  ServerProcess server({"serve", "-c", path}, log);
  const std::string token = token_direct();
  ASSERT_FALSE(token.empty());
  const std::string auth = "-H " + shell_quote("Authorization: Bearer " + token) + " ";
  const std::string pay_url = shell_quote(gateway_url("/domestic-payments"));
  const std::string old_serial = served_serial();
  ASSERT_FALSE(old_serial.empty());
  ASSERT_EQ(curl(tls_args() + auth + shell_quote(gateway_url("/accounts"))).status, 404);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  auto record = [&](const std::string& out, std::size_t expected) {
    std::istringstream in(out);
    std::string code;
    std::size_t n = 0;
    while (in >> code) {
      ++n;
      if (code == "200") {
        ++ok;
      } else {
        std::lock_guard lock(failures_mu);
        failures.push_back(code);
      }
    }
    if (n != expected) {
      std::lock_guard lock(failures_mu);
      failures.push_back("missing " + std::to_string(expected - n) + " of " +
                         std::to_string(expected) + ": " + out);
    }
  };
  // Keep-alive: five requests on one connection per curl run.
  std::thread keep_alive([&] {
    std::string cmd = "curl -s --max-time 20 -X POST " + tls_args() + auth + "-w '%{http_code}\\n'";
    for (int i = 0; i < 5; ++i) {
      cmd += " -o /dev/null " + pay_url;
    }
    while (!stop) {
      record(shell(cmd + " 2>/dev/null"), 5);
    }
  });
  // A new connection (and TLS handshake) per request.
  std::thread fresh([&] {
    const std::string cmd = "curl -s --max-time 20 -X POST -o /dev/null -w '%{http_code}\\n' " +
                            tls_args() + auth + pay_url + " 2>/dev/null";
    while (!stop) {
      record(shell(cmd), 1);
    }
  });

  std::this_thread::sleep_for(500ms);
  // 1. A new route, by SIGHUP.
  write_config({.accounts_route = true});
  sighup();
  ASSERT_TRUE(wait_log(log, "\"reload_applied\"", 1));
  EXPECT_EQ(curl(tls_args() + auth + shell_quote(gateway_url("/accounts"))).status, 200);

  // 2. A new gateway certificate from the demo CA, by `fapigate reload`.
  const std::string new_serial = issue_server_cert("rotated");
  ASSERT_NE(new_serial, old_serial);
  write_config({.gateway_cert = "rotated", .accounts_route = true});
  std::string out;
  ASSERT_EQ(run_fapigate({"reload", "-c", path}, &out), 0) << out;
  ASSERT_TRUE(wait_log(log, "\"reload_applied\"", 2));
  EXPECT_EQ(served_serial(), new_serial);

  // 3. A few more while the traffic goes on (one at a time: signals sent while a reload runs
  // would merge into one).
  for (int i = 0; i < 3; ++i) {
    sighup();
    ASSERT_TRUE(wait_log(log, "\"reload_applied\"", 3 + i));
  }
  std::this_thread::sleep_for(500ms);
  stop = true;
  keep_alive.join();
  fresh.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_GT(ok.load(), 20);
  EXPECT_EQ(served_serial(), new_serial);
  EXPECT_EQ(curl(tls_args() + auth + shell_quote(gateway_url("/accounts"))).status, 200);

  const std::uint16_t admin = ready_port(server.ready_line(), "admin");
  auto metrics = curl("http://127.0.0.1:" + std::to_string(admin) + "/metrics");
  EXPECT_NE(metrics.body.find("fapigate_reloads_total{outcome=\"applied\"} 5"), std::string::npos)
      << metrics.body.substr(0, 3000);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_EQ(read_file_text(dir_.path() + "/fapigate.pid"), "") << "removed at a clean stop";
}

TEST_F(PassthroughReload, InvalidConfigurationIsRefusedAndTheOldOneKeepsServing) {
  const std::string path = write_config({});
  const std::string log = dir_.path() + "/serve.log";
  ServerProcess server({"serve", "-c", path}, log);
  const std::string token = token_direct();
  const std::string auth = "-H " + shell_quote("Authorization: Bearer " + token) + " ";

  write_config({.typo = "upstrem"});
  // `fapigate reload` checks the file first and does not signal.
  std::string out;
  EXPECT_EQ(run_fapigate({"reload", "-c", path}, &out), 2);
  EXPECT_NE(out.find("gateway.routes[0].upstrem: unknown key"), std::string::npos) << out;
  // A SIGHUP anyway: the process refuses it and names the key in its log.
  sighup();
  ASSERT_TRUE(wait_log(log, "\"reload_rejected\""));
  const std::string text = read_file_text(log);
  EXPECT_NE(text.find("gateway.routes[0].upstrem: unknown key"), std::string::npos) << text;
  EXPECT_EQ(text.find("\"reload_applied\""), std::string::npos);
  EXPECT_EQ(curl(tls_args() + auth + "-X POST " +
                 shell_quote(gateway_url("/domestic-payments"))).status, 200);

  // A well-formed file naming a certificate that is not there: refused the same way.
  write_config({.gateway_cert = "missing"});
  sighup();
  ASSERT_TRUE(wait_log(log, "\"reload_rejected\"", 2));
  EXPECT_NE(read_file_text(log).find("gateway.listener.tls.cert_file"), std::string::npos);
  EXPECT_EQ(curl(tls_args() + auth + "-X POST " +
                 shell_quote(gateway_url("/domestic-payments"))).status, 200);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(PassthroughReload, RestartOnlyChangesAreReportedNotApplied) {
  const std::string path = write_config({});
  const std::string log = dir_.path() + "/serve.log";
  ServerProcess server({"serve", "-c", path}, log);
  std::string text = config_text({});
  text.replace(text.find("log:\n"), 5, "threads: 3\nlog:\n");
  std::ofstream(path) << text;
  sighup();
  ASSERT_TRUE(wait_log(log, "\"reload_applied\""));
  const std::string logged = read_file_text(log);
  EXPECT_NE(logged.find("\"reload_needs_restart\""), std::string::npos);
  EXPECT_NE(logged.find("\"key\":\"threads\""), std::string::npos) << logged;
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(PassthroughReload, ReloadCommandHasHelpAndNeedsAPidFile) {
  std::string out;
  EXPECT_EQ(run_fapigate({"reload", "--help"}, &out), 0);
  EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  EXPECT_NE(out.find("--pid-file"), std::string::npos) << out;
  EXPECT_EQ(run_fapigate({"reload"}, &out), 2);
  EXPECT_NE(out.find("pid_file"), std::string::npos) << out;
  // A pid file naming a process that is not fapigate (this test) is not signalled.
  const std::string pid_file = dir_.path() + "/other.pid";
  std::ofstream(pid_file) << ::getppid() << "\n";
  EXPECT_EQ(run_fapigate({"reload", "--pid-file", pid_file}, &out), 1);
  EXPECT_NE(out.find("not a running fapigate"), std::string::npos) << out;
}

}  // namespace
}  // namespace fapigate::testing
