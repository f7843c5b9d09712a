// Test support: runs `fapigate demo` in a temporary directory on free loopback ports as a child
// process, waits for its `ready` line, and stops it with SIGTERM. Also runs curl.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace fapigate::testing {

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
  const std::string& ready_line() const { return ready_line_; }

private:
  std::string dir_;
  std::uint16_t port_base_ = 0;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  boost::json::object demo_json_;
  std::string ready_line_;
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
