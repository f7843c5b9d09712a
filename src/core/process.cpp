#include "core/process.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace fapigate::core {

FdLimit raise_open_files_limit() {
  FdLimit out;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    log::warn("fd_limit_unknown", {{"reason", std::string(std::strerror(errno))}});
    return out;
  }
  out.before = lim.rlim_cur;
  out.hard = lim.rlim_max;
  out.after = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      out.after = raised.rlim_cur;
    } else {
      log::warn("fd_limit_not_raised", {{"soft", static_cast<unsigned long>(lim.rlim_cur)},
                                        {"hard", static_cast<unsigned long>(lim.rlim_max)},
                                        {"reason", std::string(std::strerror(errno))}});
    }
  }
  log::info("fd_limit", {{"before", static_cast<unsigned long>(out.before)},
                         {"soft", static_cast<unsigned long>(out.after)},
                         {"hard", static_cast<unsigned long>(out.hard)}});
  return out;
}

}  // namespace fapigate::core
