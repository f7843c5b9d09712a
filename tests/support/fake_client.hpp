// A fake http::Client for gateway and AS tests: records every request and answers by URL prefix
// (longest prefix wins) with a configured Response or a transport error. Answers are never
// delivered inside send(): the http::Client contract runs `done` on the client's own thread,
// and callers may hold locks while calling send(). Completions are queued and delivered by
// run_all()/run_one() on the test thread, which also lets a test keep a JWKS fetch "in flight"
// while it sends more requests (waiters, concurrency). The answer is chosen when it is
// delivered, so a test may change what the "server" says while a request is pending.
// Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/errc.hpp>

#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::test {

class FakeClient final : public http::Client {
public:
  using Answer = std::function<Result<http::Response>(const http::ClientRequest&)>;

  // Every request whose URL starts with `url_prefix` gets `answer`.
  void on(std::string url_prefix, Answer answer) {
    std::lock_guard lock(mu_);
    rules_[std::move(url_prefix)] = std::move(answer);
  }
  void respond(std::string url_prefix, http::Response response) {
    on(std::move(url_prefix),
       [response](const http::ClientRequest&) -> Result<http::Response> { return response; });
  }
  void respond_json(std::string url_prefix, int status, std::string body) {
    respond(std::move(url_prefix), http::Response::json(status, std::move(body)));
  }
  void fail(std::string url_prefix, ErrorCode error) {
    on(std::move(url_prefix),
       [error](const http::ClientRequest&) -> Result<http::Response> { return error; });
  }

  void send(http::ClientRequest request, std::function<void(Result<http::Response>)> done) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    pending_.push_back(Pending{std::move(request), std::move(done)});
  }

  // Delivers the oldest queued answer; false when nothing was queued.
  bool run_one() {
    Pending p;
    Answer answer;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) {
        return false;
      }
      p = std::move(pending_.front());
      pending_.pop_front();
      answer = answer_for_locked(p.request.url);
    }
    Result<http::Response> r = answer
                                   ? answer(p.request)
                                   : Result<http::Response>(make_error_code(
                                         boost::system::errc::connection_refused));
    p.done(std::move(r));
    return true;
  }
  // Delivers queued answers (including ones queued by completions) until none is left.
  std::size_t run_all() {
    std::size_t n = 0;
    while (run_one()) {
      ++n;
    }
    return n;
  }

  std::size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  // Requests sent so far whose URL starts with `url_prefix` (all of them for "").
  std::size_t count(std::string_view url_prefix = {}) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& r : requests_) {
      n += std::string_view(r.url).substr(0, url_prefix.size()) == url_prefix ? 1 : 0;
    }
    return n;
  }
  std::vector<http::ClientRequest> requests(std::string_view url_prefix = {}) const {
    std::lock_guard lock(mu_);
    std::vector<http::ClientRequest> out;
    for (const auto& r : requests_) {
      if (std::string_view(r.url).substr(0, url_prefix.size()) == url_prefix) {
        out.push_back(r);
      }
    }
    return out;
  }

private:
  struct Pending {
    http::ClientRequest request;
    std::function<void(Result<http::Response>)> done;
  };

  Answer answer_for_locked(const std::string& url) const {
    const Answer* best = nullptr;
    std::size_t best_len = 0;
    for (const auto& [prefix, answer] : rules_) {
      if (url.compare(0, prefix.size(), prefix) == 0 && (!best || prefix.size() >= best_len)) {
        best = &answer;
        best_len = prefix.size();
      }
    }
    return best ? *best : Answer();
  }

  mutable std::mutex mu_;
  std::map<std::string, Answer> rules_;
  std::deque<Pending> pending_;
  std::vector<http::ClientRequest> requests_;
};

}  // namespace fapigate::test
