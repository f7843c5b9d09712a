// Process-wide resource settings a server applies once at start, before its threads exist.
#pragma once

#include <cstdint>

namespace fapigate::core {

struct FdLimit {
  std::uint64_t before = 0;  // soft RLIMIT_NOFILE at start
  std::uint64_t after = 0;   // soft limit now (the hard limit unless raising failed)
  std::uint64_t hard = 0;
};

// Raises the soft limit on open descriptors to the hard limit: every keep-alive connection is
// a descriptor, and the usual soft default (1024) would refuse connections long before memory
// runs out (issue 4: 10,000 idle mTLS connections). Logs the result once. Never lowers it.
FdLimit raise_open_files_limit();

}  // namespace fapigate::core
