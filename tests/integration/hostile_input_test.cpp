// Hostile input against running processes: the real `fapigate demo` (and, where a test needs
// short timeouts or to see exactly what reaches the upstream, `fapigate serve` with its own
// configuration and a recording upstream), driven by raw sockets, OpenSSL clients and curl.
// Each case asserts the exact refusal (status and JSON error, a failed TLS handshake, or a
// closed connection) and that the process still serves a good request afterwards. Every
// socket has a deadline; everything is on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "support/loopback_socket.hpp"

namespace fapigate::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

json::object json_of(const std::string& text) {
  auto o = core::parse_json_object(text, core::JsonLimits{1 << 20, 16});
  return o ? std::move(*o) : json::object{};
}

std::string field(const json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

std::int64_t now_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

// OpenSSL writes to the socket with write(2): a server that has closed must not kill the test
// with SIGPIPE when a slow client keeps writing.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// ---- a raw client: TCP, optionally TLS, every wait bounded ----------------------------------

struct TlsOptions {
  std::string ca_file;
  std::string cert_file;  // client certificate (PEM), optional
  std::string key_file;
  int min_version = 0;  // 0: the library default
  int max_version = 0;
  std::string ciphers;  // TLS 1.2 and below; empty: the library default
  int security_level = -1;
  std::string sni = "localhost";
};

// What came back from the peer: bytes, and whether it closed the connection.
struct Wire {
  std::string bytes;
  bool closed = false;

  std::string head() const {
    auto end = bytes.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : bytes.substr(0, end);
  }
  int status() const {
    if (bytes.rfind("HTTP/1.", 0) != 0 || bytes.size() < 12) {
      return 0;
    }
    return std::atoi(bytes.c_str() + 9);
  }
  std::string header(const std::string& name) const {
    std::istringstream lines(head());
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      auto colon = line.find(':');
      if (colon != std::string::npos && core::iequals(line.substr(0, colon), name)) {
        return std::string(core::trim(line.substr(colon + 1)));
      }
    }
    return {};
  }
  std::string body() const {
    auto end = bytes.find("\r\n\r\n");
    if (end == std::string::npos) {
      return {};
    }
    const std::size_t len = static_cast<std::size_t>(std::atol(header("Content-Length").c_str()));
    return bytes.substr(end + 4, len);
  }
  // Status lines at the start of a line: how many responses came back.
  int responses() const {
    int n = 0;
    for (std::size_t p = 0; (p = bytes.find("HTTP/1.1 ", p)) != std::string::npos; ++p) {
      n += p == 0 || bytes[p - 1] == '\n';
    }
    return n;
  }
};

class Conn {
 public:
  // Connects to 127.0.0.1:port (and runs the TLS handshake when `tls` is given) within
  // `timeout`.
  Conn(std::uint16_t port, const TlsOptions* tls, milliseconds timeout = milliseconds(5000)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) {
      return;
    }
    timeval tv{0, 100 * 1000};  // each blocking call wakes up to check the deadline
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return;
    }
    connected_ = true;
    if (!tls) {
      return;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (tls->security_level >= 0) {
      SSL_CTX_set_security_level(ctx_, tls->security_level);
    }
    if (tls->min_version) {
      SSL_CTX_set_min_proto_version(ctx_, tls->min_version);
    }
    if (tls->max_version) {
      SSL_CTX_set_max_proto_version(ctx_, tls->max_version);
    }
    if (!tls->ciphers.empty()) {
      SSL_CTX_set_cipher_list(ctx_, tls->ciphers.c_str());
    }
    SSL_CTX_load_verify_locations(ctx_, tls->ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!tls->cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, tls->cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, tls->key_file.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, tls->sni.c_str());
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      ERR_clear_error();
      const int rc = SSL_connect(ssl_);
      if (rc == 1) {
        handshake_ = true;
        break;
      }
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        continue;
      }
      char buf[256] = {0};
      ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
      handshake_error_ = buf;
      break;
    }
    // TLS 1.3: the server's verdict on our certificate comes after the client's Finished. One
    // short read surfaces an alert now instead of at the first request.
    if (handshake_ && SSL_version(ssl_) == TLS1_3_VERSION && !tls->cert_file.empty()) {
      char b;
      ERR_clear_error();
      const int rc = SSL_peek(ssl_, &b, 1);
      const int err = SSL_get_error(ssl_, rc);
      if (rc <= 0 && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        char buf[256] = {0};
        ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
        handshake_error_ = buf;
        handshake_ = false;
      }
    }
  }
  ~Conn() {
    if (ssl_) {
      SSL_free(ssl_);
    }
    if (ctx_) {
      SSL_CTX_free(ctx_);
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }
  bool handshake() const { return handshake_; }
  const std::string& handshake_error() const { return handshake_error_; }
  SSL* ssl() const { return ssl_; }

  bool send(std::string_view data, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (!data.empty() && Clock::now() < deadline) {
      long n = 0;
      if (ssl_) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(ssl_, data.data(), data.size(), &written);
        if (rc != 1) {
          const int err = SSL_get_error(ssl_, rc);
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            continue;
          }
          return false;
        }
        n = static_cast<long>(written);
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            continue;
          }
          return false;
        }
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return data.empty();
  }

  // Reads until the peer closes or `timeout` passes; with `one_response`, stops as soon as one
  // whole response (head + Content-Length body) is in.
  Wire& read(milliseconds timeout = milliseconds(5000), bool one_response = false) {
    const auto deadline = Clock::now() + timeout;
    char buf[16384];
    while (Clock::now() < deadline && !wire_.closed) {
      if (one_response && complete()) {
        break;
      }
      long n = 0;
      if (ssl_) {
        ERR_clear_error();
        std::size_t got = 0;
        const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &got);
        if (rc != 1) {
          const int err = SSL_get_error(ssl_, rc);
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            continue;
          }
          wire_.closed = true;  // close_notify, EOF or reset
          break;
        }
        n = static_cast<long>(got);
      } else {
        n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          continue;
        }
        if (n <= 0) {
          wire_.closed = true;
          break;
        }
      }
      wire_.bytes.append(buf, static_cast<std::size_t>(n));
    }
    return wire_;
  }
  Wire& read_response(milliseconds timeout = milliseconds(5000)) { return read(timeout, true); }
  Wire& wire() { return wire_; }

 private:
  bool complete() const {
    auto end = wire_.bytes.find("\r\n\r\n");
    if (end == std::string::npos) {
      return false;
    }
    const auto len = static_cast<std::size_t>(std::atol(wire_.header("Content-Length").c_str()));
    return wire_.bytes.size() >= end + 4 + len;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  bool handshake_ = false;
  std::string handshake_error_;
  Wire wire_;
};

// One request on a fresh connection; the whole answer (the server closes after a refusal).
Wire exchange(std::uint16_t port, const TlsOptions* tls, const std::string& request,
              milliseconds timeout = milliseconds(8000)) {
  Conn c(port, tls);
  EXPECT_TRUE(c.connected());
  if (tls) {
    EXPECT_TRUE(c.handshake()) << c.handshake_error();
  }
  c.send(request);
  return c.read(timeout);
}

// The server's own refusal (http/request_head.cpp): exact status, exact JSON body, Connection:
// close, and the connection really closed.
void expect_server_refusal(const Wire& w, int status, const std::string& description) {
  EXPECT_EQ(w.status(), status) << w.bytes.substr(0, 400);
  EXPECT_EQ(w.body(), R"({"error":"invalid_request","error_description":")" + description + "\"}");
  EXPECT_EQ(w.header("Connection"), "close");
  EXPECT_EQ(w.header("Content-Type"), "application/json");
  EXPECT_EQ(w.responses(), 1) << "nothing after the refusal: " << w.bytes;
  EXPECT_TRUE(w.closed) << "the connection must be closed after a framing refusal";
}

// ---- certificates for the handshake cases ----------------------------------------------------

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// A clientAuth certificate issued by the CA in ca_pem/ca_key_pem with validity
// [now + not_before, now + not_after] (seconds), written as PEM to dir/name.{pem,key}.
bool mint_client_cert(const std::string& ca_pem, const std::string& ca_key_pem,
                      const std::string& dir, const std::string& name, long not_before,
                      long not_after) {
  BIO* cb = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509Ptr ca(PEM_read_bio_X509(cb, nullptr, nullptr, nullptr), &X509_free);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size()));
  PkeyPtr ca_key(PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr), &EVP_PKEY_free);
  BIO_free(kb);
  PkeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  X509Ptr cert(X509_new(), &X509_free);
  if (!ca || !ca_key || !key || !cert) {
    return false;
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_int64(
      X509_get_serialNumber(cert.get()),
      static_cast<std::int64_t>(Clock::now().time_since_epoch().count() & 0xffffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fapigate"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, ca.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "clientAuth"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (!ext) {
      return false;
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return false;
  }
  FILE* f = std::fopen((dir + "/" + name + ".pem").c_str(), "w");
  if (!f) {
    return false;
  }
  PEM_write_X509(f, cert.get());
  std::fclose(f);
  f = std::fopen((dir + "/" + name + ".key").c_str(), "w");
  if (!f) {
    return false;
  }
  PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return true;
}

// ---- a recording upstream: what exactly reaches the API behind the gateway -------------------

class RecordingUpstream {
 public:
  RecordingUpstream() {
    fd_ = listen_loopback(&port_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingUpstream() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      timeval tv{0, 100 * 1000};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve(c);
      ::close(c);
    }
  }

  // One connection: every request on it (the gateway keeps connections alive), until it
  // closes or stays quiet for 3 s.
  void serve(int c) {
    std::string in;
    auto quiet_since = Clock::now();
    char buf[8192];
    while (!stop_ && Clock::now() - quiet_since < std::chrono::seconds(3)) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = in.substr(0, end + 4);
        std::string lower = head;
        for (auto& ch : lower) {
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        std::size_t len = 0;
        if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
          len = static_cast<std::size_t>(std::atol(lower.c_str() + cl + 17));
        }
        if (in.size() >= end + 4 + len) {
          {
            std::lock_guard lock(mu_);
            seen_.push_back(in.substr(0, end + 4 + len));
          }
          in.erase(0, end + 4 + len);
          static constexpr std::string_view kAnswer =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
              "{\"ok\":true}";
          ::send(c, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
          continue;
        }
      }
      long n = ::recv(c, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        continue;
      }
      if (n <= 0) {
        return;
      }
      in.append(buf, static_cast<std::size_t>(n));
      quiet_since = Clock::now();
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> seen_;
};

// An issuer's JWKS endpoint over TLS that answers every fetch with the same (hostile) body and
// counts the fetches.
class JwksServer {
 public:
  JwksServer(const std::string& cert_file, const std::string& key_file, std::string body)
      : body_(std::move(body)) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM);
    fd_ = listen_loopback(&port_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~JwksServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  std::uint16_t port() const { return port_; }
  int fetches() const { return fetches_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      timeval tv{0, 100 * 1000};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      serve(ssl);
      SSL_free(ssl);
      ::close(c);
    }
  }
  void serve(SSL* ssl) {
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    int rc = 0;
    while ((rc = SSL_accept(ssl)) != 1 && Clock::now() < deadline) {
      const int err = SSL_get_error(ssl, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        return;
      }
    }
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) {
      std::size_t n = 0;
      if (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) {
        in.append(buf, n);
      } else if (const int err = SSL_get_error(ssl, 0);
                 err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        return;
      }
    }
    ++fetches_;
    const std::string out =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
    std::string_view rest = out;
    while (!rest.empty() && Clock::now() < deadline) {
      std::size_t n = 0;
      if (SSL_write_ex(ssl, rest.data(), rest.size(), &n) == 1) {
        rest.remove_prefix(n);
      }
    }
    SSL_shutdown(ssl);
  }

  std::string body_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> fetches_{0};
  std::thread thread_;
};

// Header lines of a recorded request whose name is `name` (case-insensitive).
std::vector<std::string> header_lines(const std::string& request, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream lines(request);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    auto colon = line.find(':');
    if (colon != std::string::npos && core::iequals(line.substr(0, colon), name)) {
      out.push_back(line);
    }
  }
  return out;
}

std::string hidden_value(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

// ================================================================================================
// Against `fapigate demo`.

class HostileDemo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { demo_ = new DemoProcess(); }
  static void TearDownTestSuite() {
    delete demo_;
    demo_ = nullptr;
  }

  static std::uint16_t port(int offset) {
    return static_cast<std::uint16_t>(demo_->port_base() + offset);
  }
  static std::string url(int offset, const std::string& path) {
    return "https://localhost:" + std::to_string(port(offset)) + path;
  }
  static TlsOptions tls(const char* who = "partner") {
    TlsOptions o;
    o.ca_file = demo_->str("ca_file");
    if (who) {
      o.cert_file = demo_->partner(who, "cert_file");
      o.key_file = demo_->partner(who, "key_file");
    }
    return o;
  }
  static std::string curl_tls(const char* who = "partner") {
    std::string args = "--cacert " + shell_quote(demo_->str("ca_file")) + " ";
    if (who) {
      args += "--cert " + shell_quote(demo_->partner(who, "cert_file")) + " --key " +
              shell_quote(demo_->partner(who, "key_file")) + " ";
    }
    return args;
  }
  static std::string token(const std::string& scope = "accounts payments") {
    auto r =
        curl(curl_tls() + "--data " +
             shell_quote("grant_type=client_credentials&client_id=partner-client&scope=" + scope) +
             " " + shell_quote(url(1, "/token")));
    EXPECT_EQ(r.status, 200) << r.body;
    return field(json_of(r.body), "access_token");
  }

  // A request to the gateway with the partner's token; `extra` are more header lines.
  static std::string gw_request(const std::string& method, const std::string& target,
                                const std::string& tok, const std::string& extra = {},
                                const std::string& body = {}) {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!tok.empty()) {
      r += "Authorization: Bearer " + tok + "\r\n";
    }
    r += extra;
    if (!body.empty() && extra.find("Content-Length") == std::string::npos &&
        extra.find("Transfer-Encoding") == std::string::npos) {
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return r + "\r\n" + body;
  }

  // The number in the payment_id of a payment the demo API accepted now: the count of every
  // payment that ever reached it, so a smuggled payment shows as a gap.
  static long payments_so_far(const std::string& tok) {
    auto o = tls();
    Conn c(port(2), &o);
    c.send(gw_request("POST", "/domestic-payments", tok,
                      "Content-Type: application/json\r\nConnection: close\r\n", "{}"));
    const Wire& w = c.read_response();
    EXPECT_EQ(w.status(), 200) << w.bytes;
    const std::string id = field(json_of(w.body()), "payment_id");
    return id.rfind("pmt-", 0) == 0 ? std::atol(id.c_str() + 4) : -1;
  }

  static void expect_gateway_serves(const std::string& tok) {
    auto o = tls();
    auto w = exchange(port(2), &o, gw_request("GET", "/accounts", tok, "Connection: close\r\n"));
    EXPECT_EQ(w.status(), 200) << w.bytes.substr(0, 300);
    EXPECT_TRUE(demo_->alive());
  }

  static inline DemoProcess* demo_ = nullptr;
};

// ---- slow loris ------------------------------------------------------------------------------

TEST_F(HostileDemo, SlowLorisHeadersAreCutAtTheDocumentedReadTimeout) {
  // The demo runs with the default limits (docs/CONFIG.md: read_timeout_ms 10000): a client
  // that trickles its header is disconnected then, with no answer. Both the gateway (mTLS) and
  // the AS front channel, at once, so the test waits one timeout.
  auto o = tls();
  auto front = tls(nullptr);
  Conn gw(port(2), &o);
  Conn as(port(0), &front);
  ASSERT_TRUE(gw.handshake()) << gw.handshake_error();
  ASSERT_TRUE(as.handshake()) << as.handshake_error();
  const auto t0 = Clock::now();
  ASSERT_TRUE(gw.send("GET /accounts HTTP/1.1\r\nHost: localhost\r\n"));
  ASSERT_TRUE(as.send("GET /jwks HTTP/1.1\r\nHost: localhost\r\n"));
  milliseconds gw_closed{0}, as_closed{0};
  for (int i = 0; i < 80 && !(gw.wire().closed && as.wire().closed); ++i) {
    for (auto [c, at] : {std::pair{&gw, &gw_closed}, std::pair{&as, &as_closed}}) {
      if (c->wire().closed) {
        continue;
      }
      c->send("X-Slow-" + std::to_string(i) + ": a\r\n", milliseconds(200));
      c->read(milliseconds(200));
      if (c->wire().closed) {
        *at = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
      }
    }
  }
  for (auto [c, at] : {std::pair{&gw, gw_closed}, std::pair{&as, as_closed}}) {
    EXPECT_TRUE(c->wire().closed);
    EXPECT_EQ(c->wire().bytes, "") << "a timed-out request gets no answer";
    EXPECT_GE(at.count(), 9000);
    EXPECT_LE(at.count(), 14000);
  }
  expect_gateway_serves(token());
}

// ---- size limits -----------------------------------------------------------------------------

TEST_F(HostileDemo, OversizedHeadersUrlsAndBodiesAreRefusedWithTheirStatus) {
  const std::string tok = token();
  auto o = tls();
  auto front = tls(nullptr);
  std::string many;
  for (int i = 0; i < 150; ++i) {
    many += "X-H" + std::to_string(i) + ": v\r\n";
  }
  const std::string big_body(70 * 1024, 'a');
  std::string chunked_big;
  for (int i = 0; i < 70; ++i) {
    chunked_big += "400\r\n" + std::string(1024, 'b') + "\r\n";
  }
  chunked_big += "0\r\n\r\n";
  struct Case {
    const char* name;
    std::uint16_t port;
    const TlsOptions* tls;
    std::string request;
    int status;
    std::string description;
  };
  const std::vector<Case> cases{
      {"one 20 KiB header at the gateway", port(2), &o,
       gw_request("GET", "/accounts", tok, "X-Big: " + std::string(20 * 1024, 'a') + "\r\n"), 431,
       "request header too large"},
      {"150 header fields at the gateway", port(2), &o, gw_request("GET", "/accounts", tok, many),
       431, "too many header fields"},
      {"a 20 KiB URL at the gateway", port(2), &o,
       gw_request("GET", "/accounts?q=" + std::string(20 * 1024, 'q'), tok), 431,
       "request header too large"},
      {"a 70 KiB body at the gateway", port(2), &o,
       gw_request("POST", "/domestic-payments", tok, "Content-Type: application/json\r\n",
                  big_body),
       413, "request body too large"},
      {"a 70 KiB chunked body at the gateway", port(2), &o,
       gw_request("POST", "/domestic-payments", tok, "Transfer-Encoding: chunked\r\n", chunked_big),
       413, "request body too large"},
      {"a 20 KiB URL at the AS front channel", port(0), &front,
       "GET /authorize?client_id=" + std::string(20 * 1024, 'c') +
           " HTTP/1.1\r\nHost: localhost\r\n\r\n",
       431, "request header too large"},
      {"150 header fields at the AS front channel", port(0), &front,
       "GET /jwks HTTP/1.1\r\nHost: localhost\r\n" + many + "\r\n", 431, "too many header fields"},
      {"a 70 KiB form at the token endpoint", port(1), &o,
       "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
       "application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(big_body.size()) + "\r\n\r\n" + big_body,
       413, "request body too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expect_server_refusal(exchange(c.port, c.tls, c.request), c.status, c.description);
  }
  expect_gateway_serves(tok);
  auto jwks = curl(curl_tls(nullptr) + shell_quote(url(0, "/jwks")));
  EXPECT_EQ(jwks.status, 200);
}

// ---- request smuggling ---------------------------------------------------------------------

TEST_F(HostileDemo, SmugglingAttemptsAre400ClosedAndNothingReachesTheBank) {
  const std::string tok = token();
  auto o = tls();
  const long before = payments_so_far(tok);
  ASSERT_GT(before, 0);
  // Each attempt carries a complete second payment where a desynchronised parser would read
  // the next request: if any of them got through, the demo API's payment count would jump.
  const std::string smuggled =
      gw_request("POST", "/domestic-payments", tok, "Content-Type: application/json\r\n", "{}");
  const std::string auth = "Authorization: Bearer " + tok + "\r\n";
  const std::string start = "POST /domestic-payments HTTP/1.1\r\nHost: localhost\r\n" + auth +
                            "Content-Type: application/json\r\n";
  auto hex = [](std::size_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "%zx", n);
    return std::string(b);
  };
  struct Case {
    const char* name;
    std::string request;
    std::string description;
  };
  const std::vector<Case> cases{
      {"Content-Length then Transfer-Encoding (CL.TE)",
       start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"Transfer-Encoding then Content-Length (TE.CL)",
       start + "Transfer-Encoding: chunked\r\nContent-Length: " + std::to_string(smuggled.size()) +
           "\r\n\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"two different Content-Length",
       start + "Content-Length: 2\r\nContent-Length: " + std::to_string(2 + smuggled.size()) +
           "\r\n\r\n{}" + smuggled,
       "malformed request"},
      {"Content-Length: 2, 40", start + "Content-Length: 2, 40\r\n\r\n{}" + smuggled,
       "malformed request"},
      {"Content-Length with a sign", start + "Content-Length: +2\r\n\r\n{}" + smuggled,
       "malformed request"},
      {"Transfer-Encoding twice",
       start +
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: "
           "chunked\r\n\r\n0\r\n\r\n" +
           smuggled,
       "malformed request"},
      {"Transfer-Encoding: gzip (body unframed)",
       start + "Transfer-Encoding: gzip\r\n\r\n" + smuggled, "unsupported Transfer-Encoding"},
      {"chunked not the final coding",
       start + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" + smuggled,
       "unsupported Transfer-Encoding"},
      {"a coding before chunked",
       start + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled,
       "unsupported Transfer-Encoding"},
      {"Transfer-Encoding split over two fields",
       start + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
       "unsupported Transfer-Encoding"},
      {"Transfer-Encoding: xchunked", start + "Transfer-Encoding: xchunked\r\n\r\n" + smuggled,
       "unsupported Transfer-Encoding"},
      {"Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1: faulty framing)",
       "POST /domestic-payments HTTP/1.0\r\nHost: localhost\r\n" + auth +
           "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
       "unsupported Transfer-Encoding"},
      {"bare LF line endings",
       "POST /domestic-payments HTTP/1.1\nHost: localhost\n" + auth.substr(0, auth.size() - 2) +
           "\nContent-Length: 2\n\n{}" + smuggled,
       "malformed request"},
      {"a bare CR inside a field value", start + "X-A: a\rContent-Length: 0\r\n\r\n" + smuggled,
       "malformed request"},
      {"a chunk size that is not hex",
       start + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"a chunk size that overflows 64 bits",
       start + "Transfer-Encoding: chunked\r\n\r\n1" + std::string(20, '0') +
           "\r\n{}\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"a negative chunk size",
       start + "Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"a chunk longer than its size",
       start + "Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n" + smuggled,
       "malformed request"},
      {"a space before the colon", start + "Content-Length : " + hex(0) + "\r\n\r\n" + smuggled,
       "malformed request"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expect_server_refusal(exchange(port(2), &o, c.request), 400, c.description);
  }
  EXPECT_EQ(payments_so_far(tok), before + 1) << "a smuggled payment reached the demo API";
  expect_gateway_serves(tok);
}

TEST_F(HostileDemo, ObsFoldIsUnfoldedNeverASecondHeader) {
  // RFC 9112 §5.2 lets a server replace obs-fold by SP instead of refusing (Beast does): the
  // folded line cannot become a field of its own. Folded into Authorization it is a malformed
  // header; folded into x-fapi-interaction-id the id is no longer safe and is replaced.
  const std::string tok = token();
  auto o = tls();
  auto folded_auth =
      exchange(port(2), &o,
               "GET /accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + tok +
                   "\r\n X-Injected: 1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(folded_auth.status(), 400) << folded_auth.bytes;
  EXPECT_EQ(folded_auth.header("WWW-Authenticate"),
            "Bearer realm=\"fapigate\", error=\"invalid_request\", error_description=\"malformed "
            "Authorization header\"");
  EXPECT_EQ(field(json_of(folded_auth.body()), "error"), "invalid_request");
  auto folded_id =
      exchange(port(2), &o,
               gw_request("GET", "/accounts", tok,
                          "x-fapi-interaction-id: abc\r\n X-Injected: 1\r\nConnection: close\r\n"));
  EXPECT_EQ(folded_id.status(), 200) << folded_id.bytes;
  EXPECT_EQ(folded_id.header("x-fapi-interaction-id").size(), 36u)
      << folded_id.header("x-fapi-interaction-id");
  EXPECT_EQ(folded_id.header("X-Injected"), "");
  expect_gateway_serves(tok);
}

// ---- path confusion ------------------------------------------------------------------------

TEST_F(HostileDemo, EncodedTraversalAndSlashesNeverBypassARoute) {
  const std::string tok = token("accounts");  // no payments scope
  auto o = tls();
  const std::string path_invalid =
      R"({"error":"invalid_request","error_description":"the request path is not allowed"})";
  const std::string no_route = R"({"error":"no_route","error_description":"no such resource"})";
  struct Case {
    std::string target;
    int status;
    std::string body;
  };
  // With a token that may read accounts but not pay: none of these may reach the payments
  // route's upstream, and none reaches any upstream unrecognised.
  const std::vector<Case> cases{
      {"/accounts/../domestic-payments", 400, path_invalid},
      {"/accounts/%2e%2e/domestic-payments", 400, path_invalid},
      {"/accounts/%2E%2E/domestic-payments", 400, path_invalid},
      {"/accounts%2F..%2Fdomestic-payments", 400, path_invalid},
      {"/accounts%2fx", 400, path_invalid},
      {"/accounts%5c..%5cdomestic-payments", 400, path_invalid},
      {"/accounts/..;/domestic-payments", 400, path_invalid},
      {"//domestic-payments", 400, path_invalid},
      {"/./domestic-payments", 400, path_invalid},
      {"/%2e/domestic-payments", 400, path_invalid},
      {"/domestic-payments%00", 400, path_invalid},
      {"/domestic-payments%252e", 400, path_invalid},  // double encoding: '%' encoded
      {"/accounts/", 404, no_route},
      {"/ACCOUNTS", 404, no_route},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    auto w = exchange(port(2), &o, gw_request("GET", c.target, tok, "Connection: close\r\n"));
    EXPECT_EQ(w.status(), c.status) << w.bytes.substr(0, 300);
    EXPECT_EQ(w.body(), c.body);
  }
  // An unreserved character percent-encoded is the same path (RFC 3986 §6.2.2.2), with the same
  // protection: no token, no entry; a token without payments, 403 on POST.
  auto bare = exchange(port(2), &o, gw_request("GET", "/%61ccounts", "", "Connection: close\r\n"));
  EXPECT_EQ(bare.status(), 401);
  EXPECT_EQ(bare.header("WWW-Authenticate"), "Bearer realm=\"fapigate\"");
  auto pay = exchange(port(2), &o,
                      gw_request("POST", "/%64omestic-payments", tok,
                                 "Content-Type: application/json\r\nConnection: close\r\n", "{}"));
  EXPECT_EQ(pay.status(), 403) << pay.bytes.substr(0, 300);
  EXPECT_NE(pay.header("WWW-Authenticate").find("error=\"insufficient_scope\""), std::string::npos);
  auto read = exchange(port(2), &o, gw_request("GET", "/%61ccounts", tok, "Connection: close\r\n"));
  EXPECT_EQ(read.status(), 200);
}

// ---- invalid UTF-8 -------------------------------------------------------------------------

TEST_F(HostileDemo, InvalidUtf8InQueryFormAndJsonIsRefused) {
  const std::string tok = token();
  const long before = payments_so_far(tok);
  // Form at the token endpoint: in scope (RFC 6749 §3.3 NQCHAR), in client_id.
  for (const char* form : {"grant_type=client_credentials&client_id=partner-client&scope=%FF%FE",
                           "grant_type=client_credentials&client_id=partner-client&scope=%C3%28"}) {
    auto r = curl(curl_tls() + "--data " + shell_quote(form) + " " + shell_quote(url(1, "/token")));
    EXPECT_EQ(r.status, 400) << form;
    EXPECT_EQ(
        r.body,
        R"({"error":"invalid_scope","error_description":"scope contains characters RFC 6749 forbids"})");
  }
  auto bad_id =
      curl(curl_tls() + "--data 'grant_type=client_credentials&client_id=partner%C3%28client' " +
           shell_quote(url(1, "/token")));
  EXPECT_EQ(bad_id.status, 401);
  EXPECT_EQ(field(json_of(bad_id.body), "error"), "invalid_client");
  // Query at the authorization endpoint: an error page, never a redirect.
  auto page =
      curl(curl_tls(nullptr) + shell_quote(url(0, "/authorize?client_id=%FF%FE&request_uri=x")));
  EXPECT_EQ(page.status, 400);
  EXPECT_EQ(page.header("Location"), "");
  EXPECT_NE(page.body.find("<code>invalid_request</code>"), std::string::npos) << page.body;
  // JSON at the registration endpoint (RFC 8259 §8.1: UTF-8) and to the bank API.
  const auto* reg = core::get_object(demo_->demo_json(), "registration");
  ASSERT_NE(reg, nullptr);
  const std::string iat = field(*reg, "initial_access_token");
  const std::string bad_json = demo_->dir() + "/bad-utf8.json";
  std::ofstream(bad_json, std::ios::binary) << "{\"client_name\":\"\xff\xfe\"}";
  auto dcr = curl(curl_tls() + "-H " + shell_quote("Authorization: Bearer " + iat) +
                  " -H 'Content-Type: application/json' --data-binary @" + shell_quote(bad_json) +
                  " " + shell_quote(url(1, "/register")));
  EXPECT_EQ(dcr.status, 400) << dcr.body;
  EXPECT_EQ(
      dcr.body,
      R"({"error":"invalid_client_metadata","error_description":"the body must be a JSON object"})");
  auto o = tls();
  auto pay = exchange(port(2), &o,
                      gw_request("POST", "/domestic-payments", tok,
                                 "Content-Type: application/json\r\nConnection: close\r\n",
                                 "{\"reference\":\"\xff\xfe\xc3\x28\"}"));
  EXPECT_EQ(pay.status(), 400) << pay.bytes;
  EXPECT_EQ(pay.body(),
            R"({"error":"invalid_request","error_description":"the body must be a JSON object"})");
  // Raw (not percent-encoded) non-ASCII octets in the request-target: the server's 400, at the
  // gateway (this was a 502: the upstream client refused the URL) and at the AS.
  auto front = tls(nullptr);
  for (const auto& [p, request] :
       {std::pair{port(2), gw_request("GET", "/accounts?x=\xff\xfe", tok)},
        std::pair{port(2), gw_request("GET", "/acc\xc3\xa9ounts", tok)},
        std::pair{
            port(0),
            std::string("GET /authorize?client_id=\xff HTTP/1.1\r\nHost: localhost\r\n\r\n")}}) {
    SCOPED_TRACE(request.substr(0, 30));
    expect_server_refusal(exchange(p, p == port(2) ? &o : &front, request), 400,
                          "malformed request target");
  }
  EXPECT_EQ(payments_so_far(tok), before + 1);
}

// ---- JSON bombs ------------------------------------------------------------------------------

TEST_F(HostileDemo, JsonDepthBombsAndHugeArraysGetABoundedRefusal) {
  const std::string tok = token();
  const auto* reg = core::get_object(demo_->demo_json(), "registration");
  ASSERT_NE(reg, nullptr);
  const std::string iat = field(*reg, "initial_access_token");
  const std::string dir = demo_->dir();
  auto post_file = [&](const std::string& name, const std::string& body, int offset,
                       const std::string& path, const std::string& bearer) {
    std::ofstream(dir + "/" + name, std::ios::binary) << body;
    return curl(curl_tls() + "-H " + shell_quote("Authorization: Bearer " + bearer) +
                " -H 'Content-Type: application/json' --data-binary @" +
                shell_quote(dir + "/" + name) + " " + shell_quote(url(offset, path)));
  };
  const std::string not_object =
      R"({"error":"invalid_client_metadata","error_description":"the body must be a JSON object"})";
  const std::string deep_array = std::string(20000, '[') + std::string(20000, ']');
  std::string deep_object;
  for (int i = 0; i < 5000; ++i) {
    deep_object += "{\"a\":";
  }
  deep_object += "1" + std::string(5000, '}');
  for (const auto& [name, body] :
       {std::pair{"deep-array.json", deep_array}, std::pair{"deep-object.json", deep_object}}) {
    SCOPED_TRACE(name);
    auto r = post_file(name, body, 1, "/register", iat);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, not_object);
  }
  // A huge array inside otherwise plain metadata: the body limit, then the per-field limits.
  json::array uris;
  for (int i = 0; i < 4000; ++i) {
    uris.emplace_back("https://tpp.example/cb" + std::to_string(i));
  }
  auto too_big = post_file("big-array.json", json::serialize(json::object{{"redirect_uris", uris}}),
                           1, "/register", iat);
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(field(json_of(too_big.body), "error_description"), "request body too large");
  // At the bank API behind the gateway.
  auto o = tls();
  auto pay =
      exchange(port(2), &o,
               gw_request("POST", "/domestic-payments", tok,
                          "Content-Type: application/json\r\nConnection: close\r\n",
                          "{\"a\":" + std::string(30000, '[') + std::string(30000, ']') + "}"));
  EXPECT_EQ(pay.status(), 400) << pay.bytes.substr(0, 300);
  EXPECT_EQ(field(json_of(pay.body()), "error"), "invalid_request");
  // A JWT whose header is a depth bomb is a malformed token, not a crash.
  const std::string bomb_header = core::base64url_encode(
      "{\"alg\":\"PS256\",\"x\":" + std::string(3000, '[') + std::string(3000, ']') + "}");
  auto jwt =
      exchange(port(2), &o,
               gw_request("GET", "/accounts", bomb_header + ".e30.AAAA", "Connection: close\r\n"));
  EXPECT_EQ(jwt.status(), 401);
  EXPECT_EQ(jwt.header("WWW-Authenticate"),
            "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"the access "
            "token is malformed\"");
  expect_gateway_serves(tok);
}

// ---- huge tokens -----------------------------------------------------------------------------

TEST_F(HostileDemo, HugeTokensGetTheExactChallengeOrError) {
  const std::string tok = token();
  auto o = tls();
  auto challenge = [](const std::string& description) {
    return "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"" +
           description + "\"";
  };
  const std::string big_header = core::base64url_encode(json::serialize(
      json::object{{"alg", "PS256"}, {"typ", "at+jwt"}, {"kid", std::string(9000, 'k')}}));
  struct Case {
    const char* name;
    std::string token;
    std::string description;
  };
  const std::string malformed = "the access token is malformed";
  // A 12 KiB payload fits the header limit and the verifier's bounds: it is read (bounded) and
  // refused for what it says (no issuer), before any signature work.
  for (const auto& c :
       std::vector<Case>{{"12000 characters, no dots", std::string(12000, 'A'), malformed},
                         {"a JWT with a 9000-character kid", big_header + ".e30.AAAA", malformed},
                         {"a JWT with a 12 KiB payload",
                          std::string(tok.substr(0, tok.find('.'))) + "." +
                              core::base64url_encode(std::string(9000, ' ') + "{}") + ".AAAA",
                          "the token issuer is not trusted here"}}) {
    SCOPED_TRACE(c.name);
    auto w =
        exchange(port(2), &o, gw_request("GET", "/accounts", c.token, "Connection: close\r\n"));
    EXPECT_EQ(w.status(), 401) << w.bytes.substr(0, 300);
    EXPECT_EQ(w.header("WWW-Authenticate"), challenge(c.description));
    EXPECT_EQ(w.body(),
              R"({"error":"invalid_token","error_description":")" + c.description + "\"}");
  }
  // Past the header limit the HTTP server answers before the gateway sees it.
  expect_server_refusal(
      exchange(port(2), &o, gw_request("GET", "/accounts", std::string(20000, 'A'))), 431,
      "request header too large");
  // At the AS: a huge opaque token at introspection is simply inactive; a huge code is an
  // invalid grant; a huge client assertion fails client authentication.
  auto intro = curl(curl_tls() + "--data " +
                    shell_quote("client_id=partner-client&token=" + std::string(30000, 'A')) + " " +
                    shell_quote(url(1, "/introspect")));
  EXPECT_EQ(intro.status, 200);
  EXPECT_EQ(intro.body, R"({"active":false})");
  auto code =
      curl(curl_tls() + "--data " +
           shell_quote("grant_type=authorization_code&client_id=partner-client&code=" +
                       std::string(30000, 'c') +
                       "&redirect_uri=https%3A%2F%2Fpartner-client.example%2Fcb&code_verifier=" +
                       std::string(43, 'v')) +
           " " + shell_quote(url(1, "/token")));
  EXPECT_EQ(code.status, 400) << code.body;
  EXPECT_EQ(field(json_of(code.body), "error"), "invalid_grant");
  EXPECT_EQ(code.header("Cache-Control"), "no-store");
  EXPECT_EQ(code.header("Pragma"), "no-cache");
  auto assertion = curl(
      curl_tls("fapi2_partner") + "--data " +
      shell_quote("grant_type=client_credentials&client_id=fapi2-partner&client_assertion_type="
                  "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&"
                  "client_assertion=" +
                  big_header + "." + std::string(30000, 'p') + ".AAAA") +
      " " + shell_quote(url(1, "/token")));
  EXPECT_EQ(assertion.status, 401) << assertion.body;
  EXPECT_EQ(field(json_of(assertion.body), "error"), "invalid_client");
  expect_gateway_serves(tok);
}

// ---- TLS -------------------------------------------------------------------------------------

TEST_F(HostileDemo, OldProtocolsAndNonFapiCiphersFailTheHandshake) {
  for (int offset : {0, 1, 2}) {
    SCOPED_TRACE("listener N+" + std::to_string(offset));
    for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
      auto o = tls();
      o.min_version = o.max_version = version;
      o.security_level = 0;  // let this client offer what the server must refuse
      o.ciphers = "ALL:@SECLEVEL=0";
      Conn c(port(offset), &o);
      EXPECT_TRUE(c.connected());
      EXPECT_FALSE(c.handshake()) << "TLS version " << std::hex << version << " was accepted";
      EXPECT_NE(c.handshake_error().find("alert protocol version"), std::string::npos)
          << c.handshake_error();
    }
    for (const char* cipher :
         {"ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA",
          "ECDHE-RSA-CHACHA20-POLY1305", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
          "DHE-RSA-AES128-SHA256", "DHE-RSA-CHACHA20-POLY1305",
          // FAPI 1.0's DHE pair: not RFC 9325-recommended, so not offered (FAPI 2.0 SP §5.2.2-1)
          "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"}) {
      auto o = tls();
      o.min_version = o.max_version = TLS1_2_VERSION;
      o.ciphers = std::string(cipher) + ":@SECLEVEL=0";
      o.security_level = 0;
      Conn c(port(offset), &o);
      EXPECT_FALSE(c.handshake()) << cipher << " was accepted";
      EXPECT_NE(c.handshake_error().find("alert handshake failure"), std::string::npos)
          << cipher << ": " << c.handshake_error();
    }
    // The suites both profiles allow on TLS 1.2, and TLS 1.3, are served.
    for (const char* cipher : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"}) {
      auto o = tls();
      o.min_version = o.max_version = TLS1_2_VERSION;
      o.ciphers = cipher;
      Conn c(port(offset), &o);
      ASSERT_TRUE(c.handshake()) << cipher << ": " << c.handshake_error();
      EXPECT_STREQ(SSL_get_cipher_name(c.ssl()), cipher);
    }
    auto o = tls();
    o.min_version = TLS1_3_VERSION;
    Conn c(port(offset), &o);
    ASSERT_TRUE(c.handshake()) << c.handshake_error();
    EXPECT_EQ(SSL_version(c.ssl()), TLS1_3_VERSION);
  }
  // And over the FAPI TLS 1.2 suite the gateway serves a request.
  auto o = tls();
  o.max_version = TLS1_2_VERSION;
  o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
  auto w = exchange(port(2), &o, gw_request("GET", "/accounts", token(), "Connection: close\r\n"));
  EXPECT_EQ(w.status(), 200);
}

TEST_F(HostileDemo, RenegotiationIsRefusedAndTheConnectionStillServes) {
  const std::string tok = token();
  auto o = tls();
  o.max_version = TLS1_2_VERSION;  // TLS 1.3 has no renegotiation at all
  Conn c(port(2), &o);
  ASSERT_TRUE(c.handshake()) << c.handshake_error();
  ASSERT_EQ(SSL_renegotiate(c.ssl()), 1);
  bool renegotiated = false;
  std::string refusal;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(c.ssl());
    if (rc == 1) {
      // The client sent its ClientHello; the server's answer arrives with the next read.
      char b;
      const int r = SSL_peek(c.ssl(), &b, 1);
      const int err = SSL_get_error(c.ssl(), r);
      if (err == SSL_ERROR_WANT_READ && SSL_renegotiate_pending(c.ssl())) {
        continue;
      }
      renegotiated = SSL_renegotiate_pending(c.ssl()) == 0 && r > 0;
      break;
    }
    const int err = SSL_get_error(c.ssl(), rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      char buf[256] = {0};
      ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
      refusal = buf;
      break;  // refused: the server answered no_renegotiation
    }
  }
  EXPECT_FALSE(renegotiated) << "the server renegotiated (SSL_OP_NO_RENEGOTIATION)";
  EXPECT_NE(refusal.find("no renegotiation"), std::string::npos) << refusal;
  // A fresh connection is served as ever.
  expect_gateway_serves(tok);
}

TEST_F(HostileDemo, UntrustedExpiredAndNotYetValidClientCertificatesFailTheHandshake) {
  const std::string dir = demo_->dir();
  const std::string ca_pem = read_file_text(demo_->str("ca_file"));
  const std::string ca_key = read_file_text(demo_->str("ca_key_file"));
  // CAs of our own that the demo does not trust: one with a name of its own, and one that
  // copies the demo CA's name (the chain then "finds" the demo CA, and the signature fails).
  crypto::CaOptions rogue_ca;
  rogue_ca.common_name = "hostile test CA";
  auto rogue = crypto::issue_ca(rogue_ca);
  ASSERT_TRUE(rogue);
  ASSERT_TRUE(mint_client_cert(rogue->cert_pem, rogue->key_pem, dir, "untrusted", -300, 86400));
  auto ca_cert = crypto::parse_certificate_pem(ca_pem);
  ASSERT_TRUE(ca_cert);
  crypto::CaOptions twin_ca;
  twin_ca.common_name = "fapigate demo CA";
  auto twin = crypto::issue_ca(twin_ca);
  ASSERT_TRUE(twin);
  ASSERT_EQ(crypto::parse_certificate_pem(twin->cert_pem)->subject_dn, ca_cert->subject_dn)
      << "the twin CA must carry the demo CA's exact name";
  ASSERT_TRUE(mint_client_cert(twin->cert_pem, twin->key_pem, dir, "twin", -300, 86400));
  ASSERT_TRUE(mint_client_cert(ca_pem, ca_key, dir, "expired", -2 * 86400, -86400));
  ASSERT_TRUE(mint_client_cert(ca_pem, ca_key, dir, "not-yet-valid", 86400, 2 * 86400));
  ASSERT_TRUE(mint_client_cert(ca_pem, ca_key, dir, "fresh", -300, 86400));
  for (int offset : {1, 2}) {
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      // The alert OpenSSL's verification sends for each (RFC 8446 §6.2).
      for (const auto& [name, alert] :
           {std::pair{"untrusted", "alert unknown ca"}, std::pair{"twin", "alert decrypt error"},
            std::pair{"expired", "alert certificate expired"},
            std::pair{"not-yet-valid", "alert bad certificate"}}) {
        SCOPED_TRACE(std::string(name) + " at N+" + std::to_string(offset) + " TLS " +
                     (version == TLS1_3_VERSION ? "1.3" : "1.2"));
        auto o = tls(nullptr);
        o.cert_file = dir + "/" + name + ".pem";
        o.key_file = dir + "/" + name + ".key";
        o.min_version = o.max_version = version;
        Conn c(port(offset), &o);
        if (!c.handshake()) {
          EXPECT_NE(c.handshake_error().find(alert), std::string::npos) << c.handshake_error();
        } else {
          // TLS 1.3 may report success before the server's alert: the first request fails.
          c.send("GET /accounts HTTP/1.1\r\nHost: localhost\r\n\r\n");
          EXPECT_EQ(c.read(milliseconds(3000)).status(), 0) << c.wire().bytes;
          EXPECT_TRUE(c.wire().closed);
        }
      }
      // The control: a valid certificate from the same CA completes the handshake (the gateway
      // then wants a token bound to it).
      auto o = tls(nullptr);
      o.cert_file = dir + "/fresh.pem";
      o.key_file = dir + "/fresh.key";
      o.min_version = o.max_version = version;
      auto w = exchange(
          port(offset), &o,
          offset == 2 ? gw_request("GET", "/accounts", "", "Connection: close\r\n")
                      : "GET /token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      EXPECT_EQ(w.status(), offset == 2 ? 401 : 405) << w.bytes.substr(0, 200);
    }
  }
  expect_gateway_serves(token());
}

// ---- the browser pages: CSRF, open redirects, framing, caching --------------------------------

class Browser {
 public:
  Browser(DemoProcess& demo, std::string jar) : demo_(demo), jar_(std::move(jar)) {}
  HttpResult get(const std::string& url) const { return curl(args() + shell_quote(url)); }
  HttpResult post(const std::string& path, const std::string& form) const {
    return curl(args() + "-X POST --data " + shell_quote(form) + " " +
                shell_quote(demo_.str("issuer") + path));
  }
  // Signs in as the demo user through /consents (no authorization request needed).
  bool sign_in() const {
    auto page = get(demo_.str("issuer") + "/consents");
    const auto* user = core::get_object(demo_.demo_json(), "user");
    if (!user) {
      return false;
    }
    auto r = post("/authorize/login",
                  core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                                     {"next", "consents"},
                                     {"username", field(*user, "username")},
                                     {"password", field(*user, "password")}}));
    return r.status == 303;
  }

 private:
  std::string args() const {
    return "--cacert " + shell_quote(demo_.str("ca_file")) + " -b " + shell_quote(jar_) + " -c " +
           shell_quote(jar_) + " ";
  }
  DemoProcess& demo_;
  std::string jar_;
};

void expect_no_framing(const HttpResult& r) {
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  EXPECT_NE(r.header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos)
      << r.header("Content-Security-Policy");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("Content-Type").rfind("text/html", 0), 0u);
}

TEST_F(HostileDemo, ConsentFormRefusesMissingWrongAndOtherSessionsCsrfTokens) {
  const std::string redirect = demo_->partner("partner", "redirect_uri");
  auto push = [&] {
    auto r = curl(curl_tls() + "--data " +
                  shell_quote("client_id=partner-client&response_type=code&scope=payments&state=s"
                              "&redirect_uri=" +
                              core::percent_encode(redirect) +
                              "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                              "&code_challenge_method=S256") +
                  " " + shell_quote(url(1, "/par")));
    EXPECT_EQ(r.status, 201) << r.body;
    return field(json_of(r.body), "request_uri");
  };
  Browser alice(*demo_, demo_->dir() + "/jar-a.txt");
  Browser mallory(*demo_, demo_->dir() + "/jar-m.txt");
  ASSERT_TRUE(alice.sign_in());
  ASSERT_TRUE(mallory.sign_in());
  const std::string uri = push();
  const std::string authorize =
      url(0, "/authorize?client_id=partner-client&request_uri=" + core::percent_encode(uri));
  auto alice_page = alice.get(authorize);
  ASSERT_EQ(alice_page.status, 200) << alice_page.body;
  expect_no_framing(alice_page);
  auto mallory_page = mallory.get(authorize);
  ASSERT_EQ(mallory_page.status, 200);
  const std::string alice_csrf = hidden_value(alice_page.body, "csrf_token");
  const std::string mallory_csrf = hidden_value(mallory_page.body, "csrf_token");
  ASSERT_FALSE(alice_csrf.empty());
  ASSERT_NE(alice_csrf, mallory_csrf);
  auto form = [&](const std::string& csrf, bool with_csrf = true) {
    std::vector<std::pair<std::string, std::string>> f{
        {"client_id", "partner-client"}, {"request_uri", uri}, {"decision", "approve"}};
    if (with_csrf) {
      f.emplace_back("csrf_token", csrf);
    }
    return core::form_encode(f);
  };
  for (const auto& [name, r] :
       {std::pair{"missing", alice.post("/authorize/consent", form("", false))},
        std::pair{"wrong", alice.post("/authorize/consent", form("forged-token"))},
        std::pair{"another session's", alice.post("/authorize/consent", form(mallory_csrf))},
        std::pair{"no cookie at all",
                  curl(curl_tls(nullptr) + "-X POST --data " + shell_quote(form(alice_csrf)) + " " +
                       shell_quote(url(0, "/authorize/consent")))}}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.header("Location"), "") << "never redirected with a code";
    EXPECT_NE(r.body.find("CSRF check failed"), std::string::npos);
    expect_no_framing(r);
  }
  // The request was not consumed by the refused posts: the right token still completes it.
  auto ok = alice.post("/authorize/consent", form(alice_csrf));
  EXPECT_EQ(ok.status, 303) << ok.body;
  EXPECT_EQ(ok.header("Location").rfind(redirect + "?code=", 0), 0u) << ok.header("Location");
}

TEST_F(HostileDemo, UnregisteredRedirectUrisAreNeverRedirectedTo) {
  const std::string evil = "https://evil.example/cb";
  // PAR: a JSON error to the client, nothing stored.
  auto par = curl(curl_tls() + "--data " +
                  shell_quote("client_id=partner-client&response_type=code&scope=payments"
                              "&redirect_uri=" +
                              core::percent_encode(evil) +
                              "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                              "&code_challenge_method=S256") +
                  " " + shell_quote(url(1, "/par")));
  EXPECT_EQ(par.status, 400);
  EXPECT_EQ(field(json_of(par.body), "error"), "invalid_request");
  // /authorize with the parameters in the query (no PAR), for a FAPI 2.0 and a FAPI 1.0 client,
  // with an unregistered redirect_uri, a registered one with a suffix, and a userinfo trick:
  // an error page every time, no Location.
  for (const std::string& client : {std::string("partner-client"), std::string("fapi1-partner")}) {
    const std::string registered =
        demo_->partner(client == "partner-client" ? "partner" : "fapi1_partner", "redirect_uri");
    for (const std::string& target :
         std::vector<std::string>{evil, registered + ".evil.example", registered + "/../../evil",
                                  "https://partner-client.example@evil.example/cb"}) {
      SCOPED_TRACE(client + " -> " + target);
      auto r =
          curl(curl_tls(nullptr) +
               shell_quote(url(0, "/authorize?client_id=" + client +
                                      "&response_type=code&scope=payments&state=s"
                                      "&redirect_uri=" +
                                      core::percent_encode(target) +
                                      "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                                      "&code_challenge_method=S256")));
      EXPECT_EQ(r.status, 400) << r.body;
      EXPECT_EQ(r.header("Location"), "");
      expect_no_framing(r);
    }
  }
  // A request object properly signed by the FAPI 1.0 client, naming an unregistered
  // redirect_uri: validated before anything is sent anywhere (F1-15), so an error page.
  auto jwk = jose::parse_jwk(read_file_text(demo_->partner("fapi1_partner", "jwks_private_file")));
  ASSERT_TRUE(jwk && jwk->key.is_private());
  const std::int64_t now = now_seconds();
  json::object c{{"iss", "fapi1-partner"},
                 {"aud", demo_->str("issuer")},
                 {"client_id", "fapi1-partner"},
                 {"response_type", "code id_token"},
                 {"redirect_uri", evil},
                 {"scope", "openid payments"},
                 {"state", "s"},
                 {"nonce", "n"},
                 {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
                 {"code_challenge_method", "S256"},
                 {"nbf", now - 5},
                 {"exp", now + 300}};
  auto ro = jose::sign_compact(json::serialize(c), jwk->alg.value_or(jose::Alg::ES256), jwk->key,
                               jwk->kid, "oauth-authz-req+jwt");
  ASSERT_TRUE(ro);
  auto signed_evil = curl(curl_tls(nullptr) +
                          shell_quote(url(0,
                                          "/authorize?client_id=fapi1-partner&response_type=code+"
                                          "id_token&scope=openid&request=" +
                                              *ro)));
  EXPECT_EQ(signed_evil.status, 400) << signed_evil.body;
  EXPECT_EQ(signed_evil.header("Location"), "");
  expect_no_framing(signed_evil);
}

TEST_F(HostileDemo, HtmlPagesCannotBeFramedAndTokenResponsesAreNotCached) {
  Browser b(*demo_, demo_->dir() + "/jar-pages.txt");
  expect_no_framing(b.get(url(0, "/consents")));                    // the login page
  expect_no_framing(b.get(url(0, "/authorize?client_id=nobody")));  // an error page
  ASSERT_TRUE(b.sign_in());
  expect_no_framing(b.get(url(0, "/consents")));  // signed in
  // RFC 6749 §5.1 / §5.2: success and error alike.
  auto ok = curl(curl_tls() + "--data 'grant_type=client_credentials&client_id=partner-client' " +
                 shell_quote(url(1, "/token")));
  auto bad = curl(curl_tls() + "--data 'grant_type=client_credentials&client_id=nobody' " +
                  shell_quote(url(1, "/token")));
  auto bad_grant = curl(curl_tls() + "--data 'grant_type=implicit&client_id=partner-client' " +
                        shell_quote(url(1, "/token")));
  for (const auto* r : {&ok, &bad, &bad_grant}) {
    EXPECT_EQ(r->header("Cache-Control"), "no-store") << r->status;
    EXPECT_EQ(r->header("Pragma"), "no-cache") << r->status;
  }
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad_grant.status, 400);
  auto intro = curl(curl_tls() + "--data 'client_id=partner-client&token=x' " +
                    shell_quote(url(1, "/introspect")));
  EXPECT_EQ(intro.header("Cache-Control"), "no-store");
}

// ---- login brute force (its own demo: the address throttle would lock the shared one out) ----

TEST(HostileLogin, BruteForceIsThrottledPerUserAndPerAddress) {
  DemoProcess demo;
  const auto* user = core::get_object(demo.demo_json(), "user");
  ASSERT_NE(user, nullptr);
  const std::string alice = field(*user, "username");
  const std::string password = field(*user, "password");
  Browser b(demo, demo.dir() + "/jar-brute.txt");
  const std::string consents = demo.str("issuer") + "/consents";
  auto attempt = [&](const std::string& username, const std::string& pw) {
    auto page = b.get(consents);
    return b.post("/authorize/login",
                  core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                                     {"next", "consents"},
                                     {"username", username},
                                     {"password", pw}}));
  };
  // Per user (login_max_failures_per_user, 5 in 15 minutes by default): the sixth attempt is
  // refused even with the right password, and the page says why.
  for (int i = 0; i < 5; ++i) {
    auto r = attempt(alice, "wrong-" + std::to_string(i));
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("The username or password is incorrect."), std::string::npos);
  }
  auto locked = attempt(alice, password);
  EXPECT_EQ(locked.status, 429) << locked.body.substr(0, 300);
  EXPECT_NE(locked.body.find("Too many failed sign-in attempts"), std::string::npos);
  EXPECT_EQ(locked.header("Set-Cookie").find("__Host-fapigate-session"), std::string::npos)
      << "no session for a throttled login";
  expect_no_framing(locked);
  // Per address (login_max_failures_per_address, 20 by default): names that do not exist count
  // too, then even another user is refused from this address.
  for (int i = 0; i < 15; ++i) {
    auto r = attempt("nobody-" + std::to_string(i), "x");
    EXPECT_EQ(r.status, 401) << i;
  }
  auto address_locked = attempt("bob-" + crypto::random_token(4), "x");
  EXPECT_EQ(address_locked.status, 429);
  EXPECT_NE(address_locked.body.find("Too many failed sign-in attempts"), std::string::npos);
  // The rest of the AS is unaffected.
  auto jwks = curl("--cacert " + shell_quote(demo.str("ca_file")) + " " +
                   shell_quote(demo.str("issuer") + "/jwks"));
  EXPECT_EQ(jwks.status, 200);
  EXPECT_EQ(demo.stop(), 0);
}

// ================================================================================================
// Against `fapigate serve`: short timeouts, and an upstream that records every byte it gets.

class HostileServe : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = init_pki(dir_.path());
    ASSERT_TRUE(cert);
    pki_ = dir_.path() + "/pki/";
    partner_dn_ = cert->subject_dn;
    partner_x5t_ = crypto::x5t_s256(cert->der);
    // A signing key the gateway trusts for the issuer (extra_keys_file), so a test can mint
    // tokens with hostile claims.
    auto key = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(key);
    key_ = std::make_unique<jose::Jwk>(jose::make_jwk(*key, "hostile-test", jose::Alg::ES256));
    jose::Jwks pub;
    pub.keys.push_back(jose::make_jwk(key->public_only(), "hostile-test", jose::Alg::ES256));
    std::ofstream(dir_.path() + "/extra.jwks.json") << jose::to_json_string(pub, false);
    // A second issuer whose JWKS holds 3000 keys (one public key under 3000 kids, ~500 KiB).
    {
      std::string keys;
      const std::string one = jose::to_json_string(pub.keys[0], false);
      for (int i = 0; i < 3000; ++i) {
        std::string k = one;
        k.replace(k.find("\"kid\":\"hostile-test\""), 20,
                  "\"kid\":\"k-" + std::to_string(i) + "\"");
        keys += (i ? "," : "") + k;
      }
      jwks_ = std::make_unique<JwksServer>(pki_ + "server.pem", pki_ + "server.key",
                                           "{\"keys\":[" + keys + "]}");
    }
    base_ = find_free_port_base();
    const std::string p0 = std::to_string(base_), p1 = std::to_string(base_ + 1),
                      p2 = std::to_string(base_ + 2);
    const std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    const std::string yaml =
        "log:\n  level: info\n"
        "limits:\n  read_timeout_ms: 1500\n  handshake_timeout_ms: 1500\n"
        "  idle_timeout_ms: 3000\n"
        "store:\n  sqlite_path: as.db\n"
        "authorization_server:\n  enabled: true\n  issuer: https://localhost:" +
        p0 +
        "\n"
        "  mtls_base_url: https://localhost:" +
        p1 +
        "\n"
        "  front:\n    port: " +
        p0 + "\n    tls:\n" + tls + "  mtls:\n    port: " + p1 + "\n    tls:\n" + tls +
        "      client_ca_file: pki/ca.pem\n"
        "  access_token_audiences: [https://localhost:" +
        p2 +
        "]\n"
        "  scopes_supported: [accounts]\n"
        "  clients:\n    - client_id: partner-client\n"
        "      tls_client_auth_subject_dn: \"" +
        partner_dn_ +
        "\"\n"
        "      grant_types: [client_credentials]\n      scopes: [accounts]\n"
        "gateway:\n  enabled: true\n  upstream_timeout_ms: 3000\n"
        "  listener:\n    port: " +
        p2 + "\n    tls:\n" + tls +
        "      client_ca_file: pki/ca.pem\n"
        "  issuers:\n    - issuer: https://localhost:" +
        p0 +
        "\n"
        "      jwks_uri: https://localhost:" +
        p0 +
        "/jwks\n      ca_file: pki/ca.pem\n"
        "      audiences: [https://localhost:" +
        p2 +
        "]\n"
        "      extra_keys_file: extra.jwks.json\n"
        "    - issuer: " +
        flood_issuer() + "\n      jwks_uri: " + flood_issuer() +
        "/jwks\n"
        "      ca_file: pki/ca.pem\n      audiences: [https://localhost:" +
        p2 +
        "]\n"
        "  routes:\n    - name: recorded\n      path: /rec\n      methods: [GET, POST]\n"
        "      scopes: [accounts]\n      upstream: http://127.0.0.1:" +
        std::to_string(upstream_.port()) + "\n      claim_headers: {X-User: sub}\n";
    const std::string path = dir_.path() + "/hostile.yaml";
    std::ofstream(path) << yaml;
    std::string out;
    ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"serve", "-c", path},
                                              dir_.path() + "/serve.log");
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0);
    }
  }

  std::uint16_t port(int offset) const { return static_cast<std::uint16_t>(base_ + offset); }
  std::string flood_issuer() const { return "https://localhost:" + std::to_string(jwks_->port()); }
  TlsOptions tls(bool with_cert = true) const {
    TlsOptions o;
    o.ca_file = pki_ + "ca.pem";
    if (with_cert) {
      o.cert_file = pki_ + "partner.pem";
      o.key_file = pki_ + "partner.key";
    }
    return o;
  }
  // An access token signed with the test key; `edit` changes claims.
  std::string mint(const std::function<void(json::object&)>& edit = {}) const {
    const std::int64_t now = now_seconds();
    json::object c{{"iss", "https://localhost:" + std::to_string(base_)},
                   {"aud", "https://localhost:" + std::to_string(base_ + 2)},
                   {"sub", "partner-client"},
                   {"client_id", "partner-client"},
                   {"scope", "accounts"},
                   {"iat", now},
                   {"exp", now + 300},
                   {"jti", crypto::random_token(8)},
                   {"cnf", json::object{{"x5t#S256", partner_x5t_}}}};
    if (edit) {
      edit(c);
    }
    auto t =
        jose::sign_compact(json::serialize(c), jose::Alg::ES256, key_->key, key_->kid, "at+jwt");
    EXPECT_TRUE(t);
    return t ? *t : std::string();
  }
  std::string request(const std::string& method, const std::string& tok,
                      const std::string& extra = {}, const std::string& body = {}) const {
    std::string r = method + " /rec HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + tok +
                    "\r\n" + extra;
    if (!body.empty() && extra.find("Content-Length") == std::string::npos &&
        extra.find("Transfer-Encoding") == std::string::npos) {
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return r + "\r\n" + body;
  }
  void expect_serves() {
    const std::size_t before = upstream_.count();
    auto o = tls();
    auto w = exchange(port(2), &o, request("GET", mint(), "Connection: close\r\n"));
    EXPECT_EQ(w.status(), 200) << w.bytes.substr(0, 300);
    EXPECT_EQ(w.body(), R"({"ok":true})");
    EXPECT_EQ(upstream_.count(), before + 1);
    EXPECT_TRUE(server_->alive());
  }

  RecordingUpstream upstream_;
  TempDir dir_;
  std::string pki_, partner_dn_, partner_x5t_;
  std::unique_ptr<jose::Jwk> key_;
  std::unique_ptr<JwksServer> jwks_;
  std::uint16_t base_ = 0;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(HostileServe, SlowHeadersSlowBodiesAndSilentHandshakesAreCutAtTheirTimeouts) {
  // limits: read_timeout_ms 1500, handshake_timeout_ms 1500. Three slow clients at once.
  auto o = tls();
  Conn headers(port(2), &o);
  Conn body(port(2), &o);
  Conn silent(port(2), nullptr);  // TCP only: never sends a ClientHello
  ASSERT_TRUE(headers.handshake()) << headers.handshake_error();
  ASSERT_TRUE(body.handshake()) << body.handshake_error();
  const auto t0 = Clock::now();
  ASSERT_TRUE(headers.send("GET /rec HTTP/1.1\r\nHost: localhost\r\n"));
  ASSERT_TRUE(body.send(request("POST", mint(), "Content-Length: 1000\r\n") + "{"));
  std::map<Conn*, milliseconds> closed_at;
  for (int i = 0; i < 40 && closed_at.size() < 3; ++i) {
    for (Conn* c : {&headers, &body, &silent}) {
      if (closed_at.count(c)) {
        continue;
      }
      if (c == &headers) {
        c->send("X-Slow-" + std::to_string(i) + ": a\r\n", milliseconds(100));
      } else if (c == &body) {
        c->send("\"", milliseconds(100));
      }
      c->read(milliseconds(100));
      if (c->wire().closed) {
        closed_at[c] = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
      }
    }
  }
  for (Conn* c : {&headers, &body, &silent}) {
    ASSERT_TRUE(closed_at.count(c)) << "a slow client was never disconnected";
    EXPECT_GE(closed_at[c].count(), 1300);
    EXPECT_LE(closed_at[c].count(), 4000);
    EXPECT_EQ(c->wire().bytes, "");
  }
  EXPECT_EQ(upstream_.count(), 0u) << "a half-read request reached the upstream";
  expect_serves();
}

TEST_F(HostileServe, SmugglingNeverReachesTheUpstream) {
  auto o = tls();
  const std::string tok = mint();
  const std::string second = request("GET", tok, "X-Smuggled: yes\r\n");
  const std::string start =
      "POST /rec HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + tok + "\r\n";
  for (const auto& [request, description] :
       {std::pair{
            start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second,
            "malformed request"},
        std::pair{
            start + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + second,
            "malformed request"},
        std::pair{start + "Content-Length: 0\r\nContent-Length: 9\r\n\r\n" + second,
                  "malformed request"},
        std::pair{start + "Transfer-Encoding: gzip\r\n\r\n" + second,
                  "unsupported Transfer-Encoding"},
        std::pair{start + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + second,
                  "unsupported Transfer-Encoding"},
        std::pair{start + "Transfer-Encoding: chunked\r\n\r\n0x1\r\n{\r\n0\r\n\r\n" + second,
                  "malformed request"}}) {
    SCOPED_TRACE(request.substr(start.size(), 60));
    expect_server_refusal(exchange(port(2), &o, request), 400, description);
  }
  EXPECT_EQ(upstream_.count(), 0u);
  // A legitimate chunked POST arrives as one request with its body framed by the gateway.
  auto ok = exchange(port(2), &o,
                     request("POST", tok,
                             "Transfer-Encoding: chunked\r\n"
                             "Connection: close\r\n",
                             "2\r\n{}\r\n0\r\n\r\n"));
  EXPECT_EQ(ok.status(), 200) << ok.bytes;
  ASSERT_EQ(upstream_.count(), 1u);
  const std::string seen = upstream_.requests()[0];
  EXPECT_EQ(seen.rfind("POST /rec HTTP/1.1\r\n", 0), 0u) << seen;
  EXPECT_TRUE(header_lines(seen, "Transfer-Encoding").empty() ||
              header_lines(seen, "Content-Length").empty())
      << seen;
  EXPECT_TRUE(header_lines(seen, "X-Smuggled").empty());
  EXPECT_EQ(seen.substr(seen.size() - 2), "{}") << seen;
  expect_serves();
}

TEST_F(HostileServe, HeaderInjectionNeverReachesTheUpstreamAsAHeader) {
  auto o = tls();
  // A claim carrying CR/LF (X-User comes from sub): refused, not forwarded, not truncated.
  for (const std::string& sub :
       {std::string("alice\r\nX-Admin: true"), std::string("a\nX-Admin: 1"),
        std::string("nul\0X-Admin: 1", 14)}) {
    SCOPED_TRACE(core::json_quote(sub));
    auto w = exchange(
        port(2), &o,
        request("GET", mint([&](json::object& c) { c["sub"] = sub; }), "Connection: close\r\n"));
    EXPECT_EQ(w.status(), 401) << w.bytes.substr(0, 300);
    EXPECT_EQ(w.header("WWW-Authenticate"),
              "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"the access "
              "token has an invalid claim\"");
  }
  // A claim of 5000 characters would bloat every upstream request: refused the same way.
  auto bloated =
      exchange(port(2), &o,
               request("GET", mint([](json::object& c) { c["sub"] = std::string(5000, 's'); }),
                       "Connection: close\r\n"));
  EXPECT_EQ(bloated.status(), 401);
  EXPECT_EQ(upstream_.count(), 0u);

  // What the client can put in a header: the gateway's own and the claim header are replaced,
  // folded lines stay one field, percent-encoded CR/LF stays text.
  auto w = exchange(port(2), &o,
                    request("GET", mint(),
                            "X-User: admin\r\n"
                            "x-fapi-interaction-id: id-1\r\n X-Injected-Fold: 1\r\n"
                            "X-Note: a\r\n\tX-Injected-Tab: 1\r\n"
                            "X-Encoded: %0d%0aX-Injected-Encoded: 1\r\n"
                            "Client-Cert: :AAAA:\r\n"
                            "Connection: close\r\n"));
  EXPECT_EQ(w.status(), 200) << w.bytes.substr(0, 300);
  ASSERT_EQ(upstream_.count(), 1u);
  const std::string seen = upstream_.requests()[0];
  for (const char* injected :
       {"X-Injected-Fold", "X-Injected-Tab", "X-Injected-Encoded", "X-Admin"}) {
    EXPECT_TRUE(header_lines(seen, injected).empty()) << injected << " reached the upstream:\n"
                                                      << seen;
  }
  EXPECT_EQ(header_lines(seen, "X-User"), std::vector<std::string>{"X-User: partner-client"});
  const auto ids = header_lines(seen, "x-fapi-interaction-id");
  ASSERT_EQ(ids.size(), 1u) << seen;
  EXPECT_EQ(ids[0].size(), std::string("x-fapi-interaction-id: ").size() + 36) << ids[0];
  EXPECT_EQ(w.header("x-fapi-interaction-id"), ids[0].substr(ids[0].find(": ") + 2));
  EXPECT_EQ(header_lines(seen, "X-Note"), std::vector<std::string>{"X-Note: a X-Injected-Tab: 1"});
  EXPECT_EQ(header_lines(seen, "X-Encoded"),
            std::vector<std::string>{"X-Encoded: %0d%0aX-Injected-Encoded: 1"});
  // The client's Client-Cert is not believed: the gateway sends the verified one (RFC 9440).
  const auto certs = header_lines(seen, "Client-Cert");
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_NE(certs[0], "Client-Cert: :AAAA:");
  expect_serves();
}

TEST_F(HostileServe, AnIssuerWithThousandsOfJwksKeysIsRefusedWithoutAFetchStorm) {
  // jose::JwksLimits: at most 256 KiB and 100 keys. The set is refused as a whole, the issuer's
  // tokens with it (never a partial set), and unknown kids do not make the gateway refetch at
  // every request (jwks_refetch_min_interval, 30 s by default).
  auto o = tls();
  for (int i = 0; i < 10; ++i) {
    const std::string t = [&] {
      const std::int64_t now = now_seconds();
      json::object c{{"iss", flood_issuer()},
                     {"aud", "https://localhost:" + std::to_string(base_ + 2)},
                     {"sub", "partner-client"},
                     {"scope", "accounts"},
                     {"iat", now},
                     {"exp", now + 300},
                     {"jti", crypto::random_token(8)},
                     {"cnf", json::object{{"x5t#S256", partner_x5t_}}}};
      return jose::sign_compact(json::serialize(c), jose::Alg::ES256, key_->key,
                                "k-" + std::to_string(i * 7), "at+jwt")
          .value();
    }();
    auto w = exchange(port(2), &o, request("GET", t, "Connection: close\r\n"));
    EXPECT_EQ(w.status(), 401) << w.bytes.substr(0, 300);
    EXPECT_EQ(
        w.header("WWW-Authenticate"),
        "Bearer realm=\"fapigate\", error=\"invalid_token\", error_description=\"the issuer's "
        "keys are unavailable\"");
  }
  EXPECT_GE(jwks_->fetches(), 1);
  EXPECT_LE(jwks_->fetches(), 3) << "the gateway refetched the oversized JWKS per request";
  EXPECT_EQ(upstream_.count(), 0u);
  expect_serves();  // the other issuer is unaffected
}

}  // namespace
}  // namespace fapigate::testing
