// Faults injected into real processes, each with the exact answer the client sees and proof that
// nothing acknowledged was lost:
//  - the issuer's JWKS endpoint stalls or resets (a TCP relay in this test sits between the
//    gateway and the AS): cached keys keep working, an unknown kid is refused, and a request
//    waiting on the refetch waits no longer than gateway.issuers[].fetch_timeout_ms;
//  - the introspection endpoint (phantom tokens) resets or stalls: 503, recovery after;
//  - an upstream that resets or stalls: 502 / 504 JSON, idempotent requests retried, a POST
//    never sent twice (counted at the test upstream);
//  - the AS's store cannot write (RLIMIT_FSIZE = 0 set on the running AS with prlimit(2): EFBIG,
//    a full disk; chattr +i on the database: a read-only store): 500 server_error, no token
//    handed out, back to normal once the fault is cleared;
//  - kill -9 of the AS while two clients issue tokens as fast as they can, and around consent
//    and withdrawal writes: every acknowledged write is there after restart;
//  - clock skew between AS and gateway (libfaketime on the gateway): within the leeway tokens
//    pass, beyond it they are refused with the exact error.
// Figures (tokens before kill -9, ...) are printed as "fault-figure:" lines for RELIABILITY.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jws.hpp"
#include "support/loopback_socket.hpp"

namespace fapigate::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

boost::json::object json_of(const std::string& body) {
  auto o = core::parse_json_object(body, core::JsonLimits{1 << 20, 16});
  return o ? *o : boost::json::object{};
}

std::string field(const boost::json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

std::string invalid_token(const std::string& description) {
  return "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"" + description +
         "\"";
}

long long ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

// stdout of a shell command, bounded by `timeout`.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(("timeout 120 " + cmd).c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

std::string sqlite(const std::string& db, const std::string& sql) {
  return shell("sqlite3 " + shell_quote(db) + " " + shell_quote(sql) + " 2>&1");
}

// ---- sockets ------------------------------------------------------------------------------------

// Closes with RST (SO_LINGER 0): the peer reads ECONNRESET, not a clean end of stream.
void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) {
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// A TCP relay to a loopback port (TLS passes through untouched), switchable at run time to
// hold new connections without a byte (a stalled issuer) or to reset them (an issuer that
// refuses).
class TcpRelay {
public:
  enum class Mode { Forward, Stall, Reset };

  explicit TcpRelay(std::uint16_t target) : target_(target) {
    listen_fd_ = listen_loopback(&port_);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~TcpRelay() {
    stop_ = true;
    thread_.join();
    for (auto& t : pumps_) {
      t.join();
    }
    for (int fd : held_) {
      ::close(fd);
    }
    ::close(listen_fd_);
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const { return port_; }
  // Connections already relayed are reset too: the gateway keeps keep-alive connections to the
  // issuer, and an issuer that goes down takes them with it.
  void set_mode(Mode m) {
    mode_ = m;
    ++generation_;
  }
  int accepted() const { return accepted_; }

private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      ++accepted_;
      switch (mode_.load()) {
        case Mode::Stall:
          held_.push_back(c);  // only this thread touches held_ until the destructor
          break;
        case Mode::Reset:
          reset_close(c);
          break;
        case Mode::Forward: {
          int u = connect_loopback(target_);
          if (u < 0) {
            reset_close(c);
            break;
          }
          pumps_.emplace_back([this, c, u, g = generation_.load()] { pump(c, u, g); });
          break;
        }
      }
    }
  }

  void pump(int a, int b, int generation) {
    char buf[16384];
    bool open = true;
    while (!stop_ && open) {
      if (generation_ != generation) {
        reset_close(a);
        reset_close(b);
        return;
      }
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) {
        continue;
      }
      for (int i = 0; i < 2 && open; ++i) {
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t r = ::read(p[i].fd, buf, sizeof buf);
          open = r > 0 && write_all(p[1 - i].fd, buf, static_cast<std::size_t>(r));
        }
      }
    }
    ::close(a);
    ::close(b);
  }

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<Mode> mode_{Mode::Forward};
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> generation_{0};
  std::vector<int> held_;
  std::vector<std::thread> pumps_;
  std::thread thread_;
};

// A plain-HTTP upstream that counts every request it receives ("METHOD /path") and answers by
// path: /ok 200; /reset: RST after reading the request; /flaky: RST for the first request of
// each method, 200 after; /slow: reads the request and never answers (closed after stall_ms).
// Every answer closes the connection, so no request ever rides a reused keep-alive connection.
class TestUpstream {
public:
  explicit TestUpstream(int stall_ms) : stall_ms_(stall_ms) {
    listen_fd_ = listen_loopback(&port_);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~TestUpstream() {
    stop_ = true;
    thread_.join();
    for (auto& t : workers_) {
      t.join();
    }
    ::close(listen_fd_);
  }
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  int count(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }

private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c >= 0) {
        workers_.emplace_back([this, c] { serve(c); });
      }
    }
  }

  void serve(int fd) {
    std::string data;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    std::size_t head_end = std::string::npos;
    std::size_t need = 0;
    char buf[8192];
    while (!stop_ && Clock::now() < deadline && data.size() < (1u << 16)) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          std::smatch m;
          std::string head = data.substr(0, head_end);
          static const std::regex kLength("\r\n[Cc]ontent-[Ll]ength: *([0-9]+)");
          need = head_end + 4 +
                 (std::regex_search(head, m, kLength) ? std::stoul(m[1].str()) : 0);
        }
      }
      if (head_end != std::string::npos && data.size() >= need) {
        break;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) {
        break;
      }
      data.append(buf, static_cast<std::size_t>(r));
    }
    if (head_end == std::string::npos) {
      ::close(fd);
      return;
    }
    const std::string line = data.substr(0, data.find("\r\n"));
    const std::string method = line.substr(0, line.find(' '));
    std::string path = line.substr(method.size() + 1);
    path = path.substr(0, path.find_first_of(" ?"));
    int n = 0;
    {
      std::lock_guard lock(mu_);
      n = ++counts_[method + " " + path];
    }
    if (path == "/reset" || (path == "/flaky" && n == 1)) {
      reset_close(fd);
      return;
    }
    if (path == "/slow") {
      for (int waited = 0; waited < stall_ms_ && !stop_; waited += 50) {
        std::this_thread::sleep_for(milliseconds(50));
      }
      ::close(fd);
      return;
    }
    const std::string body = "{\"upstream\":\"ok\",\"attempt\":" + std::to_string(n) + "}";
    const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    write_all(fd, resp.data(), resp.size());
    ::close(fd);
  }

  int stall_ms_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;
  std::vector<std::thread> workers_;
  std::thread thread_;
};

// A JWT access token for `iss` signed by a key no issuer publishes (an unknown kid).
std::string forged(const std::string& iss, const std::string& aud, const std::string& x5t) {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  EXPECT_TRUE(key);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  boost::json::object c{{"iss", iss},     {"aud", aud},       {"sub", "partner-client"},
                        {"client_id", "partner-client"},      {"scope", "accounts payments"},
                        {"iat", now},     {"exp", now + 300}, {"jti", "forged-fault"},
                        {"cnf", boost::json::object{{"x5t#S256", x5t}}}};
  auto t = jose::sign_compact(boost::json::serialize(c), jose::Alg::ES256, *key, "never-published",
                              "at+jwt");
  EXPECT_TRUE(t);
  return t ? *t : std::string();
}

// Marks each transfer's end in a batched curl run: "\n@@FAULT <status>@@\n".
constexpr const char* kMarker = "\n@@FAULT ";

struct Transfer {
  int status = 0;
  std::string body;
};

// Splits a batched curl output (bodies followed by kMarker lines) into complete transfers. A
// transfer cut short (the server died) has no marker and is not returned.
std::vector<Transfer> split_transfers(const std::string& out) {
  std::vector<Transfer> v;
  std::size_t pos = 0;
  for (;;) {
    auto m = out.find(kMarker, pos);
    if (m == std::string::npos) {
      break;
    }
    Transfer t;
    t.body = out.substr(pos, m - pos);
    const std::size_t s = m + std::strlen(kMarker);
    t.status = std::atoi(out.c_str() + s);
    auto end = out.find("@@\n", s);
    if (end == std::string::npos) {
      break;
    }
    pos = end + 3;
    v.push_back(std::move(t));
  }
  return v;
}

// SIGXFSZ would kill a process writing past RLIMIT_FSIZE; ignored, the write fails with EFBIG
// as on a full disk. The disposition is inherited by the children this test starts.
void ignore_sigxfsz() { ::signal(SIGXFSZ, SIG_IGN); }

class Faults : public ::testing::Test {
protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(run_fapigate({"pki", "init", "--dir", dir_.path()}, &out), 0) << out;
    pki_ = dir_.path() + "/pki/";
    for (auto [name, dn, der] : {std::tuple{"partner", &partner_dn_, &partner_der_},
                                 std::tuple{"other-partner", &other_dn_, &other_der_}}) {
      auto cert = crypto::parse_certificate_pem(read_file_text(pki_ + name + ".pem"));
      ASSERT_TRUE(cert);
      *dn = cert->subject_dn;
      *der = cert->der;
    }
    base_ = find_free_port_base();
  }

  std::string port(int i) const { return std::to_string(base_ + i); }
  std::string issuer() const { return "https://localhost:" + port(0); }
  std::string audience() const { return "https://localhost:" + port(2); }
  std::string db() const { return dir_.path() + "/as.db"; }

  // The AS (and the demo API on N+3). `extra` goes under authorization_server.
  std::string as_yaml(const std::string& extra = {}, bool demo_api = true) const {
    std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    std::string s = "log:\n  level: info\n"
                    "store:\n  sqlite_path: as.db\n"
                    "authorization_server:\n  enabled: true\n"
                    "  issuer: " + issuer() + "\n"
                    "  mtls_base_url: https://localhost:" + port(1) + "\n"
                    "  front:\n    port: " + port(0) + "\n    tls:\n" + tls +
                    "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls +
                    "      client_ca_file: pki/ca.pem\n"
                    // These tests introspect a token as the client it was issued to (by
                    // default only resource servers may: tests/as IntrospectionPolicy).
                    "  introspection_by_token_owner: true\n"
                    "  access_token_audiences: [" + audience() + "]\n"
                    "  scopes_supported: [accounts, payments]\n"
                    "  clients:\n"
                    "    - client_id: partner-client\n"
                    "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
                    "      grant_types: [client_credentials]\n"
                    "      scopes: [accounts, payments]\n"
                    "    - client_id: gateway-client\n"
                    "      tls_client_auth_subject_dn: \"" + other_dn_ + "\"\n"
                    "      grant_types: [client_credentials]\n"
                    "      scopes: [accounts]\n" + extra;
    if (demo_api) {
      s += "demo_api:\n  enabled: true\n  listener:\n    port: " + port(3) + "\n";
    }
    return s;
  }

  std::string gateway_yaml(const std::string& issuers, const std::string& routes,
                           const std::string& extra = {}) const {
    return "gateway:\n  enabled: true\n  upstream_timeout_ms: 1000\n" + extra +
           "  listener:\n    port: " + port(2) + "\n"
           "    tls:\n      cert_file: pki/server.pem\n      key_file: pki/server.key\n"
           "      client_ca_file: pki/ca.pem\n"
           "  issuers:\n" + issuers + "  routes:\n" + routes;
  }

  std::string demo_routes() const {
    return "    - name: accounts\n      path: /accounts\n      methods: [GET]\n"
           "      scopes: [accounts]\n      upstream: http://127.0.0.1:" + port(3) + "\n";
  }

  std::string write(const std::string& name, const std::string& text) const {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string tls_args(const char* who = "partner") const {
    return "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
           shell_quote(pki_ + who + ".pem") + " --key " + shell_quote(pki_ + who + ".key") + " ";
  }

  HttpResult token_request(const std::string& scope = "accounts") const {
    return curl(tls_args() + "--data " +
                shell_quote("grant_type=client_credentials&client_id=partner-client&scope=" +
                            scope) +
                " " + shell_quote("https://localhost:" + port(1) + "/token"));
  }

  std::string token(const std::string& scope = "accounts") const {
    auto r = token_request(scope);
    EXPECT_EQ(r.status, 200) << r.body;
    return field(json_of(r.body), "access_token");
  }

  HttpResult as_post(const std::string& path, const std::string& tok) const {
    return curl(tls_args() + "--data client_id=partner-client --data-urlencode " +
                shell_quote("token=" + tok) + " " +
                shell_quote("https://localhost:" + port(1) + path));
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& tok,
                  const std::string& extra = {}) const {
    std::string args = tls_args() + "-X " + method + " ";
    if (!tok.empty()) {
      args += "-H " + shell_quote("Authorization: Bearer " + tok) + " ";
    }
    return curl(args + extra + " " + shell_quote("https://localhost:" + port(2) + path));
  }

  static void expect_json_error(const HttpResult& r, int status, const std::string& body) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
  }

  static void expect_refusal(const HttpResult& r, int status, const std::string& www) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate"), www) << r.body;
    EXPECT_FALSE(r.header("x-fapi-interaction-id").empty());
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_, other_dn_, partner_der_, other_der_;
  std::uint16_t base_ = 0;
};

// ---- the issuer's JWKS endpoint stalls, then resets ---------------------------------------------

TEST_F(Faults, JwksEndpointStallsOrResetsCachedKeysServeUnknownKidRefusedWithinFetchTimeout) {
  TcpRelay relay(static_cast<std::uint16_t>(base_));  // -> the AS front (JWKS)
  const std::string issuers =
      "    - issuer: " + issuer() + "\n      jwks_uri: https://localhost:" +
      std::to_string(relay.port()) + "/jwks\n      ca_file: pki/ca.pem\n"
      "      audiences: [" + audience() + "]\n"
      "      jwks_refetch_min_interval: 1\n      fetch_timeout_ms: 1000\n";
  auto path = write("jwks.yaml", as_yaml() + gateway_yaml(issuers, demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/jwks.log");

  ASSERT_EQ(call("GET", "/accounts", token()).status, 200);
  ASSERT_GE(relay.accepted(), 1) << "the keys came through the relay";
  const std::string unknown_kid =
      forged(issuer(), audience(), crypto::x5t_s256(partner_der_));
  const std::string kid_refusal = invalid_token("the token signing key is unknown");

  // Stalled: the unknown kid triggers a refetch that never answers. The request waiting on it
  // is answered once fetch_timeout_ms (1 s) has passed, not later; meanwhile a token signed with
  // a cached key is not held up behind the pending fetch.
  relay.set_mode(TcpRelay::Mode::Stall);
  std::this_thread::sleep_for(milliseconds(1100));  // past jwks_refetch_min_interval
  const std::string fresh = token();
  auto t0 = Clock::now();
  auto waiting = std::async(std::launch::async,
                            [&] { return call("GET", "/accounts", unknown_kid); });
  std::this_thread::sleep_for(milliseconds(300));
  auto t1 = Clock::now();
  EXPECT_EQ(call("GET", "/accounts", fresh).status, 200);
  const long long cached_ms = ms_since(t1);
  auto refused = waiting.get();
  const long long stalled_ms = ms_since(t0);
  expect_refusal(refused, 401, kid_refusal);
  EXPECT_EQ(refused.body,
            "{\"error\":\"invalid_token\",\"error_description\":\"the token signing key is "
            "unknown\"}");
  EXPECT_GE(stalled_ms, 1000) << "answered before the fetch timed out: it did not refetch";
  EXPECT_LT(stalled_ms, 1000 + 4000) << "waited longer than fetch_timeout_ms";
  // Started 300 ms after the stalled request, it is answered before it: not held behind the
  // pending fetch.
  EXPECT_LT(300 + cached_ms, stalled_ms) << "a cached key must not wait for the stalled fetch";
  std::printf("fault-figure: jwks stalled: unknown kid answered after %lld ms (fetch_timeout_ms "
              "1000); cached-key request %lld ms\n", stalled_ms, cached_ms);

  // Reset: the issuer refuses each connection.
  relay.set_mode(TcpRelay::Mode::Reset);
  std::this_thread::sleep_for(milliseconds(1100));
  const int before = relay.accepted();
  t0 = Clock::now();
  expect_refusal(call("GET", "/accounts", unknown_kid), 401, kid_refusal);
  EXPECT_LT(ms_since(t0), 1000 + 4000);
  EXPECT_GT(relay.accepted(), before) << "the unknown kid did trigger a refetch";
  EXPECT_EQ(call("GET", "/accounts", token()).status, 200) << "cached keys keep working";

  // A made-up kid does not make the gateway hammer the issuer: at most one fetch a second.
  const int burst_before = relay.accepted();
  const auto burst_start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    expect_refusal(call("GET", "/accounts", unknown_kid), 401, kid_refusal);
  }
  EXPECT_LE(relay.accepted() - burst_before, ms_since(burst_start) / 1000 + 1);

  // Back: everything as before, and the gateway noticed the failures.
  relay.set_mode(TcpRelay::Mode::Forward);
  std::this_thread::sleep_for(milliseconds(1100));
  expect_refusal(call("GET", "/accounts", unknown_kid), 401, kid_refusal);
  EXPECT_EQ(call("GET", "/accounts", token()).status, 200);
  EXPECT_TRUE(server.alive());
  EXPECT_EQ(server.stop(), 0);
  const std::string log = read_file_text(dir_.path() + "/jwks.log");
  EXPECT_NE(log.find("jwks_fetch_failed"), std::string::npos);
}

// ---- the introspection endpoint goes away (phantom tokens) --------------------------------------

TEST_F(Faults, IntrospectionDownIs503AndRecovers) {
  TcpRelay relay(static_cast<std::uint16_t>(base_ + 1));  // -> the AS mTLS port
  const std::string resources = "  resources:\n    - audience: " + audience() +
                                "\n      access_token_format: opaque\n"
                                "      introspection_clients: [gateway-client]\n";
  const std::string issuers =
      "    - issuer: " + issuer() + "\n      jwks_uri: " + issuer() + "/jwks\n"
      "      introspection_endpoint: https://localhost:" + std::to_string(relay.port()) +
      "/introspect\n      ca_file: pki/ca.pem\n"
      "      client_cert_file: pki/other-partner.pem\n"
      "      client_key_file: pki/other-partner.key\n"
      "      audiences: [" + audience() + "]\n      opaque_tokens: true\n"
      "      introspection_client_id: gateway-client\n      fetch_timeout_ms: 1000\n";
  auto path = write("phantom.yaml", as_yaml(resources) + gateway_yaml(issuers, demo_routes()));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/phantom.log");

  const std::string seen = token();
  ASSERT_EQ(seen.find('.'), std::string::npos) << "opaque: " << seen;
  ASSERT_EQ(call("GET", "/accounts", seen).status, 200);
  const std::string unavailable =
      "{\"error\":\"introspection_unavailable\",\"error_description\":\"the token issuer cannot "
      "be reached\"}";

  relay.set_mode(TcpRelay::Mode::Reset);
  const std::string during = token();
  auto r = call("GET", "/accounts", during);
  expect_json_error(r, 503, unavailable);
  // 503 says "retry"; no challenge: the token was not found wanting (RFC 6750 §3 has no code
  // for "cannot check now").
  EXPECT_EQ(r.header("WWW-Authenticate"), "");
  EXPECT_FALSE(r.header("x-fapi-interaction-id").empty());
  // An active answer already cached keeps serving while the issuer is away.
  EXPECT_EQ(call("GET", "/accounts", seen).status, 200);

  relay.set_mode(TcpRelay::Mode::Stall);
  const std::string stalled_tok = token();
  auto t0 = Clock::now();
  expect_json_error(call("GET", "/accounts", stalled_tok), 503, unavailable);
  const long long stalled_ms = ms_since(t0);
  EXPECT_GE(stalled_ms, 1000);
  EXPECT_LT(stalled_ms, 1000 + 4000) << "waited longer than fetch_timeout_ms";
  std::printf("fault-figure: introspection stalled: 503 after %lld ms (fetch_timeout_ms 1000)\n",
              stalled_ms);

  // Recovery: the tokens refused meanwhile were never remembered as inactive.
  relay.set_mode(TcpRelay::Mode::Forward);
  EXPECT_EQ(call("GET", "/accounts", during).status, 200);
  EXPECT_EQ(call("GET", "/accounts", stalled_tok).status, 200);
  expect_refusal(call("GET", "/accounts", "made-up-opaque-token-0123456789"), 401,
                 invalid_token("the access token is not active"));
  EXPECT_EQ(server.stop(), 0);
}

// ---- upstream resets and stalls; retries only for idempotent methods ----------------------------

TEST_F(Faults, UpstreamResetsAndStallsRetriesOnlyIdempotentRequests) {
  TestUpstream up(8000);
  const std::string u = "http://127.0.0.1:" + std::to_string(up.port());
  std::string routes;
  for (const char* p : {"ok", "reset", "flaky", "slow"}) {
    routes += std::string("    - name: ") + p + "\n      path: /" + p +
              "\n      methods: [GET, POST, PUT]\n      upstream: " + u + "\n";
  }
  const std::string issuers = "    - issuer: " + issuer() + "\n      jwks_uri: " + issuer() +
                              "/jwks\n      ca_file: pki/ca.pem\n      audiences: [" +
                              audience() + "]\n";
  auto path = write("upstream.yaml",
                    as_yaml({}, false) + gateway_yaml(issuers, routes, "  upstream_retries: 1\n"));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/upstream.log");
  const std::string tok = token();
  const std::string unavailable =
      "{\"error\":\"upstream_unavailable\",\"error_description\":\"the upstream service is "
      "unavailable\"}";
  const std::string timed_out =
      "{\"error\":\"upstream_timeout\",\"error_description\":\"the upstream service did not "
      "answer in time\"}";

  auto ok = call("GET", "/ok", tok);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(up.count("GET /ok"), 1);

  // Reset before any response byte: an idempotent request is sent once more (upstream_retries
  // 1), then 502; a POST exactly once.
  expect_json_error(call("GET", "/reset", tok), 502, unavailable);
  EXPECT_EQ(up.count("GET /reset"), 2);
  expect_json_error(call("PUT", "/reset", tok, "--data x=1"), 502, unavailable);
  EXPECT_EQ(up.count("PUT /reset"), 2);
  expect_json_error(call("POST", "/reset", tok, "--data amount=1"), 502, unavailable);
  EXPECT_EQ(up.count("POST /reset"), 1) << "a POST must never be sent twice";

  // A single reset: the retried GET succeeds; the POST is refused, and the client's own retry
  // is the second (and only other) POST the upstream sees.
  auto flaky = call("GET", "/flaky", tok);
  EXPECT_EQ(flaky.status, 200) << flaky.body;
  EXPECT_EQ(field(json_of(flaky.body), "upstream"), "ok");
  EXPECT_EQ(up.count("GET /flaky"), 2);
  expect_json_error(call("POST", "/flaky", tok, "--data amount=1"), 502, unavailable);
  EXPECT_EQ(up.count("POST /flaky"), 1);
  EXPECT_EQ(call("POST", "/flaky", tok, "--data amount=1").status, 200);
  EXPECT_EQ(up.count("POST /flaky"), 2);

  // Slow beyond upstream_timeout_ms (1 s): 504, and never retried after a timeout (the request
  // may have had its effect), not even a GET.
  for (const char* method : {"GET", "POST"}) {
    auto t0 = Clock::now();
    expect_json_error(call(method, "/slow", tok, "--data amount=1"), 504, timed_out);
    const long long waited = ms_since(t0);
    EXPECT_GE(waited, 1000) << method;
    EXPECT_LT(waited, 1000 + 4000) << method;
    EXPECT_EQ(up.count(std::string(method) + " /slow"), 1) << method;
    std::printf("fault-figure: upstream stalled: %s answered 504 after %lld ms "
                "(upstream_timeout_ms 1000), sent upstream %d time(s)\n",
                method, waited, up.count(std::string(method) + " /slow"));
  }
  EXPECT_TRUE(server.alive());
  EXPECT_EQ(server.stop(), 0);
}

// An upstream host that never completes the TCP handshake (dead host, firewall dropping SYNs):
// each attempt costs upstream_connect_timeout_ms, not upstream_timeout_ms, and since nothing
// was sent even a POST moves on to the next target of the pool, and arrives exactly once.
TEST_F(Faults, UpstreamThatNeverAcceptsCostsTheConnectTimeoutAndPostsMoveOn) {
  fapigate::testing::BlackholeListener hole;
  ASSERT_TRUE(hole.full) << "could not fill the listener's accept queue";
  TestUpstream up(0);
  const std::string dead = "http://127.0.0.1:" + std::to_string(hole.port);
  const std::string live = "http://127.0.0.1:" + std::to_string(up.port());
  const std::string routes =
      "    - name: pool\n      path: /pool\n      methods: [GET, POST]\n"
      "      upstreams: [" + dead + ", " + live + "]\n"
      "    - name: dead\n      path: /dead\n      methods: [POST]\n      upstream: " + dead + "\n";
  const std::string issuers = "    - issuer: " + issuer() + "\n      jwks_uri: " + issuer() +
                              "/jwks\n      ca_file: pki/ca.pem\n      audiences: [" +
                              audience() + "]\n";
  auto path = write("connect.yaml", as_yaml({}, false) +
                                        gateway_yaml(issuers, routes,
                                                     "  upstream_connect_timeout_ms: 250\n"
                                                     "  upstream_retries: 1\n"));
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/connect.log");
  const std::string tok = token();

  // Round robin puts the dead target first for every other request; each still succeeds.
  long long slowest = 0;
  for (int i = 0; i < 4; ++i) {
    auto t0 = Clock::now();
    auto r = call("POST", "/pool", tok, "--data amount=1");
    const long long waited = ms_since(t0);
    slowest = std::max(slowest, waited);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_LT(waited, 1000) << "must not wait for upstream_timeout_ms (1000)";
  }
  EXPECT_EQ(up.count("POST /pool"), 4) << "every POST arrives exactly once";
  EXPECT_GE(slowest, 250) << "at least one request met the dead target first";

  // Only dead targets: 504 after two connect timeouts (first try and one retry), well inside
  // upstream_timeout_ms.
  auto t0 = Clock::now();
  expect_json_error(call("POST", "/dead", tok, "--data amount=1"), 504,
                    "{\"error\":\"upstream_timeout\",\"error_description\":\"the upstream "
                    "service did not answer in time\"}");
  const long long waited = ms_since(t0);
  EXPECT_GE(waited, 2 * 250);
  EXPECT_LT(waited, 1000 + 1000);
  std::printf("fault-figure: upstream never accepts: POST through a pool answered 200 within "
              "%lld ms (connect timeout 250 ms); dead-only route 504 after %lld ms\n",
              slowest, waited);
  EXPECT_TRUE(server.alive());
  EXPECT_EQ(server.stop(), 0);
}

// ---- the AS's store cannot write ----------------------------------------------------------------

// Restores RLIMIT_FSIZE of a process when the test ends, whatever happens.
class FsizeLimit {
public:
  FsizeLimit(pid_t pid, rlim_t soft) : pid_(pid) {
    rlimit lim{};
    ok_ = ::prlimit(pid_, RLIMIT_FSIZE, nullptr, &old_) == 0;
    lim.rlim_cur = soft;
    lim.rlim_max = old_.rlim_max;
    ok_ = ok_ && ::prlimit(pid_, RLIMIT_FSIZE, &lim, nullptr) == 0;
  }
  ~FsizeLimit() { clear(); }
  bool ok() const { return ok_; }
  void clear() {
    if (ok_) {
      ::prlimit(pid_, RLIMIT_FSIZE, &old_, nullptr);
      ok_ = false;
    }
  }

private:
  pid_t pid_;
  rlimit old_{};
  bool ok_ = false;
};

// chattr +i on files (root with CAP_LINUX_IMMUTABLE on ext4 & co.); always undone.
class Immutable {
public:
  explicit Immutable(std::vector<std::string> files) : files_(std::move(files)) {
    ok_ = true;
    for (const auto& f : files_) {
      ok_ = ok_ && std::system(("chattr +i " + shell_quote(f) + " 2>/dev/null").c_str()) == 0;
    }
    if (!ok_) {
      clear();
    }
  }
  ~Immutable() { clear(); }
  bool ok() const { return ok_; }
  void clear() {
    for (const auto& f : files_) {
      std::system(("chattr -i " + shell_quote(f) + " 2>/dev/null").c_str());
    }
    ok_ = false;
  }

private:
  std::vector<std::string> files_;
  bool ok_ = false;
};

class StoreFaults : public Faults {
protected:
  // Opaque access tokens: one only works if its row was written, so a token handed out without
  // its row would be a token that does not work.
  std::string store_yaml() const { return as_yaml("  access_token_format: opaque\n", false); }

  std::string token_rows() const {
    return sqlite(db(), "SELECT count(*) FROM tokens WHERE kind = 'access_token'");
  }

  bool active(const std::string& tok) const {
    auto r = as_post("/introspect", tok);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.find("\"active\":true") != std::string::npos;
  }

  // While the fault holds: token requests are 500 server_error (the store refused the write),
  // none hands out a token and no row appears; reads still work; revocation asks to retry.
  void expect_refusing_writes(ServerProcess& server, const std::string& live) {
    const std::string rows = token_rows();
    for (int i = 0; i < 3; ++i) {
      auto r = token_request();
      EXPECT_EQ(r.status, 500) << r.body;
      EXPECT_EQ(r.body,
                "{\"error\":\"server_error\",\"error_description\":\"the server could not issue "
                "a token\"}");
      EXPECT_EQ(r.header("Content-Type"), "application/json");
      EXPECT_EQ(r.header("Cache-Control"), "no-store");
    }
    EXPECT_EQ(token_rows(), rows) << "no row appeared for a refused token";
    EXPECT_TRUE(active(live)) << "reads keep working";
    auto revoke = as_post("/revoke", live);
    EXPECT_EQ(revoke.status, 503) << revoke.body;
    EXPECT_EQ(revoke.body,
              "{\"error\":\"temporarily_unavailable\",\"error_description\":\"the server could "
              "not revoke the token now; retry later\"}");
    EXPECT_EQ(revoke.header("Retry-After"), "5");
    EXPECT_TRUE(active(live)) << "a revocation that was refused did not happen";
    EXPECT_TRUE(server.alive()) << "the AS must not crash on a failing disk";
  }

  // Once the fault is cleared: tokens again, each one active, revocation works, file sound.
  void expect_recovered(ServerProcess& server, const std::string& live) {
    const std::string after = token();
    ASSERT_FALSE(after.empty());
    EXPECT_TRUE(active(after));
    EXPECT_EQ(as_post("/revoke", live).status, 200);
    EXPECT_FALSE(active(live));
    EXPECT_TRUE(server.alive());
    EXPECT_EQ(server.stop(), 0);
    EXPECT_EQ(sqlite(db(), "PRAGMA integrity_check"), "ok\n");
  }
};

TEST_F(StoreFaults, DiskFullTokenEndpointAnswers500AndRecovers) {
  ignore_sigxfsz();
  auto path = write("store.yaml", store_yaml());
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/store.log");
  const std::string live = token();
  ASSERT_TRUE(active(live));

  {
    // RLIMIT_FSIZE 0 on the running AS: every write to a file fails with EFBIG, as on a disk
    // with no free block (its log lines of this period are lost too).
    FsizeLimit full(server.pid(), 0);
    ASSERT_TRUE(full.ok()) << "prlimit(RLIMIT_FSIZE) on the AS failed";
    expect_refusing_writes(server, live);
  }
  const std::string log_before = read_file_text(dir_.path() + "/store.log");
  expect_recovered(server, live);
  // Its log lost the lines of the full period but goes on after it.
  const std::string log = read_file_text(dir_.path() + "/store.log");
  EXPECT_NE(log.find("token_issued", log_before.size()), std::string::npos)
      << log.substr(log_before.size());
}

TEST_F(StoreFaults, ReadOnlyStoreTokenEndpointAnswers500AndRecovers) {
  auto path = write("store.yaml", store_yaml());
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/store.log");
  const std::string live = token();
  ASSERT_TRUE(active(live));
  {
    Immutable ro({db(), db() + "-wal"});
    if (!ro.ok()) {
      server.stop();
      GTEST_SKIP() << "fapigate: skipped on purpose: chattr +i is not available here "
                      "(needs root with CAP_LINUX_IMMUTABLE on ext4/xfs)";
    }
    expect_refusing_writes(server, live);
  }
  expect_recovered(server, live);
  // The operator learns why (the log file itself stayed writable here), without the token.
  const std::string log = read_file_text(dir_.path() + "/store.log");
  EXPECT_NE(log.find("token_refused"), std::string::npos) << log;
  EXPECT_NE(log.find("store failed"), std::string::npos) << log;
  EXPECT_EQ(log.find(live), std::string::npos);
}

// ---- kill -9 of the AS while it issues tokens ---------------------------------------------------

TEST_F(StoreFaults, KillDashNineWhileIssuingLosesNoAcknowledgedToken) {
  auto path = write("store.yaml", store_yaml());
  auto server = std::make_unique<ServerProcess>(std::vector<std::string>{"serve", "-c", path},
                                                dir_.path() + "/kill.log");
  // Two clients, each one curl with a keep-alive connection asking for tokens back to back.
  constexpr int kPerClient = 3000;
  const std::string url = "https://localhost:" + port(1) + "/token";
  std::string cfg = "silent\ncacert = \"" + pki_ + "ca.pem\"\ncert = \"" + pki_ +
                    "partner.pem\"\nkey = \"" + pki_ + "partner.key\"\n"
                    "data = \"grant_type=client_credentials&client_id=partner-client&scope=payments\"\n"
                    "write-out = \"\\n@@FAULT %{http_code}@@\\n\"\nmax-time = 10\n";
  for (int i = 0; i < kPerClient; ++i) {
    cfg += "url = \"" + url + "\"\n";
  }
  const std::string cfg_path = write("issue.curlrc", cfg);
  std::vector<std::future<std::string>> clients;
  for (int c = 0; c < 2; ++c) {
    clients.push_back(std::async(std::launch::async, [&] {
      return shell("curl -K " + shell_quote(cfg_path) + " 2>/dev/null");
    }));
  }
  std::mt19937 rng(std::random_device{}());
  const int kill_after_ms = std::uniform_int_distribution<int>(800, 2500)(rng);
  std::this_thread::sleep_for(milliseconds(kill_after_ms));
  ASSERT_EQ(::kill(server->pid(), SIGKILL), 0);
  server->stop();  // reaps it
  server.reset();

  std::vector<std::string> received;
  int transfers = 0;
  for (auto& c : clients) {
    for (const auto& t : split_transfers(c.get())) {
      ++transfers;
      if (t.status == 200) {
        auto tok = field(json_of(t.body), "access_token");
        EXPECT_FALSE(tok.empty()) << t.body;
        received.push_back(tok);
      } else {
        EXPECT_EQ(t.status, 0) << "only the dead server's refusals: " << t.body;
      }
    }
  }
  ASSERT_GT(received.size(), 0u) << "no token before the kill";
  EXPECT_LT(received.size(), 2u * kPerClient) << "the kill came after the clients finished";
  std::printf("fault-figure: kill -9 after %d ms: %zu tokens acknowledged (%d transfers "
              "completed by 2 clients)\n", kill_after_ms, received.size(), transfers);

  // The file after a crash is sound before anything opens it for writing.
  EXPECT_EQ(sqlite(db(), "PRAGMA integrity_check"), "ok\n");
  server = std::make_unique<ServerProcess>(std::vector<std::string>{"serve", "-c", path},
                                           dir_.path() + "/restart.log");
  // Every acknowledged token introspects active: one batched curl, one transfer per token.
  std::string icfg;
  for (const auto& tok : received) {
    icfg += "silent\ncacert = \"" + pki_ + "ca.pem\"\ncert = \"" + pki_ + "partner.pem\"\n"
            "key = \"" + pki_ + "partner.key\"\ndata = \"client_id=partner-client&token=" + tok +
            "\"\nwrite-out = \"\\n@@FAULT %{http_code}@@\\n\"\nmax-time = 10\nurl = \"https://localhost:" +
            port(1) + "/introspect\"\nnext\n";
  }
  const std::string icfg_path = write("introspect.curlrc", icfg);
  auto answers = split_transfers(shell("curl -K " + shell_quote(icfg_path) + " 2>/dev/null"));
  ASSERT_EQ(answers.size(), received.size());
  std::size_t active_count = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const bool ok = answers[i].status == 200 &&
                    answers[i].body.find("\"active\":true") != std::string::npos;
    active_count += ok ? 1 : 0;
    EXPECT_TRUE(ok) << "token " << i << " acknowledged before the kill: " << answers[i].body;
  }
  EXPECT_EQ(active_count, received.size());
  const std::string rows = token_rows();
  std::printf("fault-figure: after restart %zu of %zu acknowledged tokens introspect active; "
              "%d access-token rows in the store (acknowledged or not)\n",
              active_count, received.size(), std::atoi(rows.c_str()));
  EXPECT_GE(static_cast<std::size_t>(std::atoi(rows.c_str())), received.size());
  EXPECT_FALSE(token().empty()) << "and the restarted AS issues again";
  EXPECT_EQ(server->stop(), 0);
  EXPECT_EQ(sqlite(db(), "PRAGMA integrity_check"), "ok\n");
}

// ---- kill -9 around consent writes (the customer-consented flow of the demo) --------------------

constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

std::string hidden_value(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

class ConsentKill : public ::testing::Test {
protected:
  void start() {
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"demo", "--dir", dir_.path(), "--port-base",
                                 std::to_string(base_)},
        dir_.path() + "/demo-" + std::to_string(++starts_) + ".log");
    demo_ = json_of(read_file_text(dir_.path() + "/demo.json"));
  }
  void kill9() {
    ASSERT_EQ(::kill(process_->pid(), SIGKILL), 0);
    process_->stop();
    process_.reset();
  }
  std::string partner(const char* key) const {
    const auto* p = core::get_object(demo_, "partner");
    return p ? field(*p, key) : std::string();
  }
  std::string mtls() const {
    return "--cacert " + shell_quote(field(demo_, "ca_file")) + " --cert " +
           shell_quote(partner("cert_file")) + " --key " + shell_quote(partner("key_file")) + " ";
  }
  std::string mtls_url(const std::string& p) const {
    return "https://localhost:" + std::to_string(base_ + 1) + p;
  }
  std::string front_url(const std::string& p) const { return field(demo_, "issuer") + p; }
  std::string jar() const { return dir_.path() + "/cookies.txt"; }
  HttpResult browser_get(const std::string& url) const {
    return curl("--cacert " + shell_quote(field(demo_, "ca_file")) + " -b " + shell_quote(jar()) +
                " -c " + shell_quote(jar()) + " " + shell_quote(url));
  }
  HttpResult browser_post(const std::string& p, const std::string& form) const {
    return curl("--cacert " + shell_quote(field(demo_, "ca_file")) + " -b " + shell_quote(jar()) +
                " -c " + shell_quote(jar()) + " -X POST --data " + shell_quote(form) + " " +
                shell_quote(front_url(p)));
  }
  HttpResult introspect(const std::string& tok) const {
    return curl(mtls() + "--data client_id=partner-client --data-urlencode " +
                shell_quote("token=" + tok) + " " + shell_quote(mtls_url("/introspect")));
  }

  TempDir dir_;
  std::uint16_t base_ = find_free_port_base();
  std::unique_ptr<ServerProcess> process_;
  boost::json::object demo_;
  int starts_ = 0;
};

TEST_F(ConsentKill, ConsentAndWithdrawalToldSavedSurviveKillDashNine) {
  start();
  const std::string redirect = partner("redirect_uri");
  auto par = curl(mtls() + "--data " +
                  shell_quote("client_id=partner-client&response_type=code&scope=payments"
                              "&state=st-9&redirect_uri=" + core::percent_encode(redirect) +
                              "&code_challenge=" + kChallenge + "&code_challenge_method=S256") +
                  " " + shell_quote(mtls_url("/par")));
  ASSERT_EQ(par.status, 201) << par.body;
  const std::string uri = field(json_of(par.body), "request_uri");
  const std::string authorize =
      front_url("/authorize?client_id=partner-client&request_uri=" + core::percent_encode(uri));
  auto page = browser_get(authorize);
  ASSERT_EQ(page.status, 200) << page.body;
  const auto* user = core::get_object(demo_, "user");
  const auto* form = core::get_object(demo_, "login_form");
  ASSERT_TRUE(user && form);
  auto login = browser_post(
      "/authorize/login",
      core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                         {"client_id", "partner-client"},
                         {"request_uri", uri},
                         {field(*form, "username_field"), field(*user, "username")},
                         {field(*form, "password_field"), field(*user, "password")}}));
  ASSERT_EQ(login.status, 303) << login.body;
  auto consent_page = browser_get(authorize);
  ASSERT_EQ(consent_page.status, 200);
  auto approved = browser_post(
      "/authorize/consent",
      core::form_encode({{"csrf_token", hidden_value(consent_page.body, "csrf_token")},
                         {"client_id", "partner-client"},
                         {"request_uri", uri},
                         {"decision", "approve"}}));
  ASSERT_EQ(approved.status, 303) << approved.body;
  // The user was told: the browser is on its way back to the partner with a code. Now the
  // power goes.
  kill9();
  const std::string loc = approved.header("Location");
  auto q = core::parse_form(loc.substr(loc.find('?') + 1)).value_or(std::map<std::string, std::string>{});
  ASSERT_FALSE(q["code"].empty()) << loc;

  start();
  auto listed = browser_get(front_url("/consents"));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("partner-client"), std::string::npos) << listed.body;
  EXPECT_NE(listed.body.find("Active"), std::string::npos) << "the consent is there: "
                                                           << listed.body;
  // The code written before the redirect is redeemable after the restart.
  auto t = curl(mtls() + "--data " +
                shell_quote("grant_type=authorization_code&client_id=partner-client&code=" +
                            q["code"] + "&redirect_uri=" + core::percent_encode(redirect) +
                            "&code_verifier=" + kVerifier) +
                " " + shell_quote(mtls_url("/token")));
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string access = field(json_of(t.body), "access_token");
  EXPECT_NE(introspect(access).body.find("\"active\":true"), std::string::npos);

  // Withdrawal: told done (303 back to the list), then kill -9.
  auto withdrawn = browser_post(
      "/consents/withdraw",
      core::form_encode({{"csrf_token", hidden_value(listed.body, "csrf_token")},
                         {"consent_id", hidden_value(listed.body, "consent_id")}}));
  ASSERT_EQ(withdrawn.status, 303) << withdrawn.body;
  kill9();

  start();
  auto after = browser_get(front_url("/consents"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_NE(after.body.find("Withdrawn"), std::string::npos) << after.body;
  EXPECT_EQ(after.body.find("Active"), std::string::npos) << after.body;
  // And what withdrawing means held too: the grant's tokens are dead.
  EXPECT_EQ(introspect(access).body, "{\"active\":false}");
  EXPECT_EQ(process_->stop(), 0);
  EXPECT_EQ(sqlite(dir_.path() + "/" + "fapigate.db", "PRAGMA integrity_check"), "ok\n");
}

// ---- clock skew between the AS and the gateway --------------------------------------------------

std::string libfaketime_path() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                        "/usr/lib/faketime/libfaketimeMT.so.1"}) {
    if (std::filesystem::exists(p)) {
      return p;
    }
  }
  return {};
}

// Sets environment variables for the children started while it lives.
class ScopedEnv {
public:
  void set(const char* name, const std::string& value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(Faults, ClockSkewWithinLeewayPassesBeyondIsRefused) {
  const std::string lib = libfaketime_path();
  if (lib.empty()) {
    GTEST_SKIP() << "fapigate: skipped on purpose: libfaketime is not installed "
                    "(scripts/install-deps installs it)";
  }
  // The AS on the real clock issues 30 s tokens; the gateway (own process, own clock) allows
  // 10 s of skew. Its clock is moved through a libfaketime offset file re-read every second.
  auto as_path = write("as.yaml", as_yaml("  access_token_lifetime: 30\n"));
  ServerProcess as({"serve", "-c", as_path}, dir_.path() + "/as.log");
  const std::string issuers = "    - issuer: " + issuer() + "\n      jwks_uri: " + issuer() +
                              "/jwks\n      ca_file: pki/ca.pem\n      audiences: [" +
                              audience() + "]\n      clock_skew: 10\n";
  auto gw_path = write("gw.yaml", "log:\n  level: info\n" + gateway_yaml(issuers, demo_routes()));
  const std::string offset_file = dir_.path() + "/faketime.rc";
  // The gateway's wall clock as its HTTP Date header shows it (RFC 9110 §6.6.1), in seconds.
  auto gateway_clock = [&]() -> std::optional<std::int64_t> {
    auto r = call("GET", "/accounts", "");
    std::tm tm{};
    const std::string date = r.header("Date");
    if (::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(::timegm(&tm));
  };
  std::unique_ptr<ServerProcess> gw;
  // libfaketime re-reads the offset file about once a second; on a loaded machine that can take
  // longer, so wait until the gateway's own Date header shows the new offset (at most 15 s).
  auto set_offset = [&](const std::string& offset) {
    std::ofstream(offset_file) << offset << "\n";
    if (!gw) {
      std::this_thread::sleep_for(milliseconds(1500));  // FAKETIME_CACHE_DURATION=1
      return;
    }
    const std::int64_t want = std::stoll(offset);
    for (int i = 0; i < 60; ++i) {
      const auto now = static_cast<std::int64_t>(std::time(nullptr));
      if (auto seen = gateway_clock(); seen && std::llabs(*seen - (now + want)) <= 2) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(250));
    }
    ADD_FAILURE() << "the gateway's clock never showed offset " << offset;
  };
  set_offset("+0");
  {
    ScopedEnv env;
    env.set("LD_PRELOAD", lib);
    env.set("FAKETIME_TIMESTAMP_FILE", offset_file);
    env.set("FAKETIME_CACHE_DURATION", "1");
    // Timers and timeouts keep the real monotonic clock; only the wall clock moves.
    env.set("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    const char* asan = std::getenv("ASAN_OPTIONS");
    // ASan wants its runtime first in the library list; libfaketime only wraps time calls.
    env.set("ASAN_OPTIONS",
            std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "verify_asan_link_order=0");
    gw = std::make_unique<ServerProcess>(std::vector<std::string>{"serve", "-c", gw_path},
                                         dir_.path() + "/gw.log");
  }
  const std::string expired = invalid_token("the access token expired");
  const std::string not_yet = invalid_token("the access token is not yet valid");

  const std::string cached = token();
  ASSERT_EQ(call("GET", "/accounts", cached).status, 200) << "no skew";

  struct Case {
    const char* offset;
    int status;
    std::string www;
  };
  // exp = iat + 30 at the AS. Ahead by 33 s: 3 s past exp, within the 10 s leeway. Ahead by
  // 50 s: 20 s past exp. Behind by 5 s: iat 5 s in the gateway's future, within the leeway;
  // behind by 25 s: beyond it. (The margins leave room for a slow machine between the token
  // request and the call.)
  for (const Case& c : {Case{"+33", 200, ""}, Case{"+50", 401, expired}, Case{"-5", 200, ""},
                        Case{"-25", 401, not_yet}}) {
    set_offset(c.offset);
    auto r = call("GET", "/accounts", token());
    EXPECT_EQ(r.status, c.status) << "gateway clock " << c.offset << " s: " << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate"), c.www) << c.offset;
    if (std::string(c.offset) == "+50") {
      // A token verified (and cached) before the clock moved is not waved through either.
      expect_refusal(call("GET", "/accounts", cached), 401, expired);
    }
  }
  set_offset("+0");
  EXPECT_EQ(call("GET", "/accounts", token()).status, 200);
  EXPECT_EQ(gw->stop(), 0);
  EXPECT_EQ(as.stop(), 0);
}

}  // namespace
}  // namespace fapigate::testing
