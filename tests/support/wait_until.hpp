// Polling for a condition another thread makes true (a background task, a server process):
// checked every `step` until it holds or `limit` has passed. Bounded, so a test that waits for
// something that never happens fails instead of hanging.
#pragma once

#include <chrono>
#include <thread>

namespace fapigate::testing {

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(3),
                std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace fapigate::testing
