// Test support: runs `fapigate demo` in a temporary directory on free loopback ports as a child
// process, waits for its `ready` line, and stops it with SIGTERM. Also runs curl.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "crypto/x509.hpp"

namespace fapigate::testing {

// A fapigate child process whose stdout is watched for the `ready` line; stderr goes to a file.
class ServerProcess {
public:
  // Starts FAPIGATE_BINARY with `args`; throws std::runtime_error (test setup only) when it
  // exits or does not print `ready` in time.
  ServerProcess(const std::vector<std::string>& args, const std::string& stderr_path,
                int ready_timeout_seconds = 90);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGTERM and wait; returns the exit status (-1 when killed by a signal).
  int stop();
  bool alive() const;
  // The child's process id (fault tests signal it or change its limits), -1 once stopped.
  pid_t pid() const { return pid_; }
  const std::string& ready_line() const { return ready_line_; }

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string ready_line_;
};

// The whole file, or "" when it cannot be read.
std::string read_file_text(const std::string& path);
// `fapigate pki init --dir DIR` (a CA, server and partner certificates under DIR/pki/), then
// the partner's certificate parsed; an error when either step fails.
Result<crypto::Certificate> init_pki(const std::string& dir);
// The port of "name=port" on a `fapigate serve` ready line; 0 when absent.
std::uint16_t ready_port(const std::string& ready, const std::string& name);

// Runs FAPIGATE_BINARY with `args` to completion; returns the exit code and stdout+stderr.
int run_fapigate(const std::vector<std::string>& args, std::string* output);

// A fresh temporary directory, removed by the destructor.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

class DemoProcess {
public:
  // Starts the demo; throws std::runtime_error (test setup only) when it does not get ready.
  explicit DemoProcess(int ready_timeout_seconds = 90);
  ~DemoProcess();

  // SIGTERM and wait; returns the exit status (-1 when killed by a signal).
  int stop();
  bool alive() const;

  const std::string& dir() const { return dir_; }
  std::uint16_t port_base() const { return port_base_; }
  const boost::json::object& demo_json() const { return demo_json_; }
  std::string str(const char* key) const;
  std::string partner(const char* which, const char* key) const;
  const std::string& ready_line() const { return process_->ready_line(); }

private:
  TempDir dir_holder_;
  std::string dir_;
  std::uint16_t port_base_ = 0;
  std::unique_ptr<ServerProcess> process_;
  boost::json::object demo_json_;
};

// Four consecutive free TCP ports on 127.0.0.1.
std::uint16_t find_free_port_base();

struct HttpResult {
  int curl_exit = -1;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(const std::string& name) const;  // first, case-insensitive; "" if none
};

// Runs curl with `args` (already shell-quoted where needed) plus -s -i, and parses the answer.
HttpResult curl(const std::string& args);
std::string shell_quote(const std::string& s);

}  // namespace fapigate::testing
