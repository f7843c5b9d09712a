#include "integration/demo_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "core/json.hpp"
#include "core/strings.hpp"

namespace fapigate::testing {
namespace {

bool port_free(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<crypto::Certificate> init_pki(const std::string& dir) {
  std::string out;
  if (run_fapigate({"pki", "init", "--dir", dir}, &out) != 0) {
    std::fprintf(stderr, "fapigate pki init failed: %s\n", out.c_str());
    return make_error_code(boost::system::errc::io_error);
  }
  return crypto::parse_certificate_pem(read_file_text(dir + "/pki/partner.pem"));
}

std::uint16_t ready_port(const std::string& ready, const std::string& name) {
  const auto at = ready.find(" " + name + "=");
  if (at == std::string::npos) {
    return 0;
  }
  return static_cast<std::uint16_t>(std::stoi(ready.substr(at + name.size() + 2)));
}

std::uint16_t find_free_port_base() {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                   static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> dist(20000, 60000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto base = static_cast<std::uint16_t>(dist(rng));
    if (port_free(base) && port_free(base + 1) && port_free(base + 2) && port_free(base + 3)) {
      return base;
    }
  }
  throw std::runtime_error("no four free consecutive ports");
}

ServerProcess::ServerProcess(const std::vector<std::string>& args,
                             const std::string& stderr_path, int ready_timeout_seconds) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv_store{FAPIGATE_BINARY};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    int log_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDERR_FILENO);
    }
    ::close(pipefd[0]);
    ::execv(FAPIGATE_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  out_fd_ = pipefd[0];

  std::string buffer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ready_timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char chunk[512];
      ssize_t n = ::read(out_fd_, chunk, sizeof chunk);
      if (n <= 0) {
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      auto pos = buffer.find("ready");
      auto nl = pos == std::string::npos ? std::string::npos : buffer.find('\n', pos);
      if (nl != std::string::npos) {
        ready_line_ = buffer.substr(pos, nl - pos);
        break;
      }
    }
    if (!alive()) {
      break;
    }
  }
  if (ready_line_.empty()) {
    std::ifstream log(stderr_path);
    std::stringstream ss;
    ss << log.rdbuf();
    stop();
    throw std::runtime_error("fapigate did not get ready; stdout: " + buffer +
                             "\nstderr: " + ss.str());
  }
}

ServerProcess::~ServerProcess() {
  stop();
  if (out_fd_ >= 0) {
    ::close(out_fd_);
  }
}

bool ServerProcess::alive() const {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

int ServerProcess::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {  // up to 30 s
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ::usleep(100 * 1000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_fapigate(const std::vector<std::string>& args, std::string* output) {
  std::string cmd = shell_quote(FAPIGATE_BINARY);
  for (const auto& a : args) {
    cmd += " " + shell_quote(a);
  }
  cmd += " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) {
    return -1;
  }
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(f);
  if (output) {
    *output = std::move(out);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/fapigate-test-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

DemoProcess::DemoProcess(int ready_timeout_seconds) : dir_(dir_holder_.path()) {
  port_base_ = find_free_port_base();
  process_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"demo", "--dir", dir_, "--port-base", std::to_string(port_base_)},
      dir_ + "/demo.log", ready_timeout_seconds);
  std::ifstream in(dir_ + "/demo.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = core::parse_json_object(ss.str(), core::JsonLimits{1 << 20, 8});
  if (!parsed) {
    throw std::runtime_error("demo.json is not a JSON object");
  }
  demo_json_ = std::move(*parsed);
}

DemoProcess::~DemoProcess() { process_.reset(); }

bool DemoProcess::alive() const { return process_ && process_->alive(); }

int DemoProcess::stop() { return process_ ? process_->stop() : -1; }

std::string DemoProcess::str(const char* key) const {
  return std::string(core::get_string(demo_json_, key).value_or(""));
}

std::string DemoProcess::partner(const char* which, const char* key) const {
  const auto* p = core::get_object(demo_json_, which);
  return p ? std::string(core::get_string(*p, key).value_or("")) : std::string();
}

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (core::iequals(k, name)) {
      return v;
    }
  }
  return {};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

HttpResult curl(const std::string& args) {
  HttpResult r;
  std::string cmd = "curl -s -i --max-time 20 " + args + " 2>/dev/null";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) {
    return r;
  }
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(f);
  r.curl_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto head_end = out.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return r;
  }
  std::string head = out.substr(0, head_end);
  r.body = out.substr(head_end + 4);
  std::istringstream lines(head);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (first) {
      // "HTTP/1.1 200 OK"
      auto sp = line.find(' ');
      if (sp != std::string::npos) {
        r.status = std::atoi(line.c_str() + sp + 1);
      }
      first = false;
      continue;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      r.headers.emplace_back(line.substr(0, colon), std::string(core::trim(line.substr(colon + 1))));
    }
  }
  return r;
}

}  // namespace fapigate::testing
