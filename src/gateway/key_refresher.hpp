// Keeps every issuer's JWKS fresh without traffic: a thread asks each issuer once per tick
// whether its keys are due (IssuerKeys::refresh_if_due: 80% of their cache lifetime, or never
// loaded, within the same retry bounds as a lookup). Traffic refreshes them too; this covers an
// idle gateway, whose first request after a quiet spell would otherwise wait for a fetch or
// meet keys past jwks_max_stale, and keeps readiness honest. The fetches themselves run on the
// issuers' HTTP clients; the thread only decides. Stops and joins in its destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fapigate::gw {

class IssuerKeys;

class KeyRefresher {
public:
  KeyRefresher(std::vector<std::shared_ptr<IssuerKeys>> issuers, std::chrono::milliseconds tick);
  ~KeyRefresher();
  KeyRefresher(const KeyRefresher&) = delete;
  KeyRefresher& operator=(const KeyRefresher&) = delete;

  // Fetches this refresher started (tests and logs).
  std::uint64_t started_fetches() const;

private:
  void run();

  std::vector<std::shared_ptr<IssuerKeys>> issuers_;
  std::chrono::milliseconds tick_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::uint64_t started_ = 0;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace fapigate::gw
