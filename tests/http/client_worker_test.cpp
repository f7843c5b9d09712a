// http::Client in caller-worker mode (ClientOptions::use_caller_worker): a server handler that
// forwards to an upstream, as the gateway does. The exchange and its callback stay on the
// worker that called send(), each worker keeps its own keep-alive pool, and stopping the server
// neither loses an answered request nor waits out an upstream's timeout.
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/error.hpp>

#include "http/client.hpp"
#include "http/test_support.hpp"

namespace fapigate::http {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using testing::handler;

std::string url(std::uint16_t port, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

std::shared_ptr<Client> caller_worker_client() {
  ClientOptions o;
  o.use_caller_worker = true;
  auto c = make_client(o);
  EXPECT_TRUE(c.has_value());
  return c ? *c : nullptr;
}

// What the proxy's callback saw, per request.
struct Seen {
  std::mutex mu;
  std::set<std::thread::id> workers;
  int same_thread = 0;
  int different_thread = 0;
  int inside_send = 0;
  std::vector<ErrorCode> errors;
};

// Forwards every request to `upstream` on `client` (held by the test, which outlives the
// server), and answers with the upstream's body.
std::shared_ptr<Handler> proxy(Client* client, std::uint16_t upstream, Seen* seen,
                               std::chrono::milliseconds timeout = 5s) {
  return handler([client, upstream, seen, timeout](Request r, Responder respond) {
    const auto worker = std::this_thread::get_id();
    auto returned = std::make_shared<std::atomic<bool>>(false);
    ClientRequest out;
    out.url = url(upstream, r.target);
    out.timeout = timeout;
    client->send(std::move(out), [worker, returned, seen, respond](Result<Response> res) {
      {
        std::lock_guard lock(seen->mu);
        seen->workers.insert(worker);
        ++(std::this_thread::get_id() == worker ? seen->same_thread : seen->different_thread);
        seen->inside_send += returned->load() ? 0 : 1;
        if (!res) {
          seen->errors.push_back(res.error());
        }
      }
      respond(res ? Response::text(200, res->body) : Response::text(502, res.error().message()));
    });
    returned->store(true);
  });
}

Result<Response> get(std::uint16_t port, std::string_view path, std::chrono::milliseconds t = 10s) {
  ClientRequest r;
  r.url = url(port, path);
  r.timeout = t;
  return send_sync({}, std::move(r));
}

TEST(HttpClientCallerWorker, ExchangeAndCallbackStayOnTheCallingWorker) {
  auto client = caller_worker_client();
  auto upstream = TestServer::start(testing::echo_handler());
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen), {}, std::nullopt, 2);
  for (int i = 0; i < 6; ++i) {
    auto res = get(front.port, "/p" + std::to_string(i));
    ASSERT_TRUE(res.has_value()) << res.error().message();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "GET /p" + std::to_string(i) + "? ");
  }
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.same_thread, 6);
  EXPECT_EQ(seen.different_thread, 0);
  EXPECT_EQ(seen.inside_send, 0);  // never from inside send()
}

TEST(HttpClientCallerWorker, EachWorkerKeepsItsOwnPool) {
  auto client = caller_worker_client();
  auto upstream = TestServer::start(testing::echo_handler());
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen), {}, std::nullopt, 2);
  // Sequential requests, each on a fresh front connection: the kernel spreads them over the
  // two workers; each worker opens one upstream connection and reuses it afterwards.
  for (int i = 0; i < 40; ++i) {
    auto res = get(front.port, "/w");
    ASSERT_TRUE(res.has_value()) << res.error().message();
  }
  std::lock_guard lock(seen.mu);
  EXPECT_GE(seen.workers.size(), 1u);
  EXPECT_EQ(upstream.server->stats().connections_accepted, seen.workers.size());
  EXPECT_EQ(upstream.server->stats().requests, 40u);
}

TEST(HttpClientCallerWorker, CallsFromOutsideAWorkerUseTheClientsThreads) {
  auto client = caller_worker_client();
  auto upstream = TestServer::start(testing::echo_handler());
  std::promise<std::thread::id> where;
  ClientRequest r;
  r.url = url(upstream.port, "/x");
  client->send(std::move(r), [&where](Result<Response> res) {
    EXPECT_TRUE(res.has_value());
    where.set_value(std::this_thread::get_id());
  });
  const auto id = where.get_future().get();
  EXPECT_NE(id, std::this_thread::get_id());
}

TEST(HttpClientCallerWorker, InvalidRequestFailsOnTheWorkerAfterSendReturns) {
  auto client = caller_worker_client();
  Seen seen;
  auto front = TestServer::start(handler([&client, &seen](Request, Responder respond) {
                                   const auto worker = std::this_thread::get_id();
                                   auto returned = std::make_shared<std::atomic<bool>>(false);
                                   ClientRequest bad;
                                   bad.url = "ftp://nowhere";
                                   client->send(std::move(bad), [&seen, worker, returned,
                                                                 respond](Result<Response> res) {
                                     std::lock_guard lock(seen.mu);
                                     seen.same_thread += std::this_thread::get_id() == worker;
                                     seen.inside_send += returned->load() ? 0 : 1;
                                     respond(Response::text(res ? 200 : 502, "x"));
                                   });
                                   returned->store(true);
                                 }),
                                 {}, std::nullopt, 1);
  auto res = get(front.port, "/bad");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 502);
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.same_thread, 1);
  EXPECT_EQ(seen.inside_send, 0);
}

TEST(HttpClientCallerWorker, UpstreamClosingKeepAliveConnectionsIsHandled) {
  auto client = caller_worker_client();
  config::Limits upstream_limits;
  upstream_limits.max_requests_per_connection = 2;  // closes every second response
  upstream_limits.idle_timeout_ms = 150;            // and idle connections soon
  auto upstream = TestServer::start(testing::echo_handler(), upstream_limits, std::nullopt, 1);
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen), {}, std::nullopt, 1);
  for (int i = 0; i < 5; ++i) {
    auto res = get(front.port, "/k" + std::to_string(i));
    ASSERT_TRUE(res.has_value()) << res.error().message();
    EXPECT_EQ(res->status, 200) << res->body;
  }
  std::this_thread::sleep_for(400ms);  // the pooled connection is closed by the upstream
  auto res = get(front.port, "/after-idle");
  ASSERT_TRUE(res.has_value()) << res.error().message();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "GET /after-idle? ");
  EXPECT_EQ(upstream.server->stats().requests, 6u);
  EXPECT_GE(upstream.server->stats().connections_accepted, 4u);
  std::lock_guard lock(seen.mu);
  EXPECT_TRUE(seen.errors.empty());
}

// A POST is never retried on a new connection, so this passes only if the worker's pool sees
// that the upstream closed the idle connection (its drain watch woke, http/drain_watch.hpp)
// before the request goes out on it. Repeated: each round's connection is closed in turn.
TEST(HttpClientCallerWorker, PostAfterTheUpstreamClosedThePooledConnectionGoesOnANewOne) {
  auto client = caller_worker_client();
  config::Limits upstream_limits;
  upstream_limits.idle_timeout_ms = 100;
  auto upstream = TestServer::start(testing::echo_handler(), upstream_limits, std::nullopt, 1);
  std::mutex mu;
  std::vector<ErrorCode> errors;
  auto front = TestServer::start(
      handler([&client, &mu, &errors, port = upstream.port](Request r, Responder respond) {
        ClientRequest out;
        out.method = "POST";
        out.url = url(port, r.target);
        out.body = "payment";
        out.timeout = 5s;
        client->send(std::move(out), [&mu, &errors, respond](Result<Response> res) {
          if (!res) {
            std::lock_guard lock(mu);
            errors.push_back(res.error());
          }
          respond(res ? Response::text(200, res->body) : Response::text(502, "upstream"));
        });
      }),
      {}, std::nullopt, 1);
  for (int i = 0; i < 3; ++i) {
    // Two back to back on the same pooled connection, then idle past the upstream's timeout.
    for (int j = 0; j < 2; ++j) {
      auto res = get(front.port, "/pay" + std::to_string(i) + std::to_string(j));
      ASSERT_TRUE(res.has_value()) << res.error().message();
      EXPECT_EQ(res->status, 200) << res->body;
    }
    std::this_thread::sleep_for(350ms);
  }
  EXPECT_EQ(upstream.server->stats().requests, 6u);
  // At least one new connection per round (more when a slow build lets the upstream's timeout
  // pass between the two of a pair; reuse itself is EachWorkerKeepsItsOwnPool's check).
  EXPECT_GE(upstream.server->stats().connections_accepted, 3u);
  std::lock_guard lock(mu);
  EXPECT_TRUE(errors.empty());
}

TEST(HttpClientCallerWorker, GracefulStopLetsAnInFlightUpstreamRequestFinish) {
  auto client = caller_worker_client();
  std::promise<void> upstream_got_it;
  auto upstream = TestServer::start(handler([&upstream_got_it](Request r, Responder respond) {
    upstream_got_it.set_value();
    std::thread([respond, path = r.path] {
      std::this_thread::sleep_for(300ms);
      respond(Response::text(200, "late " + path));
    }).detach();
  }));
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen), {}, std::nullopt, 1);
  auto answer = std::async(std::launch::async, [port = front.port] { return get(port, "/slow"); });
  upstream_got_it.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  front.server->stop(5s);
  front.server->wait();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  auto res = answer.get();
  ASSERT_TRUE(res.has_value()) << res.error().message();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "late /slow");
}

TEST(HttpClientCallerWorker, StopDeadlineAbortsAnUpstreamThatNeverAnswers) {
  auto client = caller_worker_client();
  std::mutex held_mu;
  std::vector<Responder> held;  // answered at the end of the test
  std::promise<void> upstream_got_it;
  auto upstream = TestServer::start(handler([&](Request, Responder respond) {
    std::lock_guard lock(held_mu);
    held.push_back(std::move(respond));
    if (held.size() == 1) {
      upstream_got_it.set_value();
    }
  }));
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen, 30s), {},
                                 std::nullopt, 1);
  auto answer = std::async(std::launch::async, [port = front.port] { return get(port, "/hang"); });
  upstream_got_it.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  front.server->stop(200ms);
  front.server->wait();  // not the upstream's 30 s timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto res = answer.get();  // the front connection was closed at the deadline
  EXPECT_FALSE(res.has_value() && res->status == 200);
  {
    std::lock_guard lock(seen.mu);
    ASSERT_EQ(seen.errors.size(), 1u);
    EXPECT_EQ(seen.errors[0], ErrorCode(boost::asio::error::operation_aborted));
  }
  std::lock_guard lock(held_mu);
  for (auto& r : held) {
    r(Response::text(200, "too late"));
  }
}

TEST(HttpClientCallerWorker, ManyConcurrentRequestsOnTwoWorkers) {
  auto client = caller_worker_client();
  auto upstream = TestServer::start(testing::echo_handler());
  Seen seen;
  auto front = TestServer::start(proxy(client.get(), upstream.port, &seen), {}, std::nullopt, 2);
  std::vector<std::future<Result<Response>>> answers;
  for (int i = 0; i < 24; ++i) {
    answers.push_back(std::async(std::launch::async,
                                 [port = front.port, i] { return get(port, "/c" + std::to_string(i)); }));
  }
  for (int i = 0; i < 24; ++i) {
    auto res = answers[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(res.has_value()) << res.error().message();
    EXPECT_EQ(res->body, "GET /c" + std::to_string(i) + "? ");
  }
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.same_thread, 24);
  EXPECT_TRUE(seen.errors.empty());
}

}  // namespace
}  // namespace fapigate::http
