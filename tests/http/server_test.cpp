// http/ server: request conversion, keep-alive, limits (431/413/400), timeouts, responders on
// other threads, handler failures and graceful stop, over plain loopback sockets.
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "http/test_support.hpp"

namespace fapigate::http {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;
using testing::TestServer;
using testing::body_of;
using testing::handler;
using testing::has_header;
using testing::status_of;

constexpr std::string_view kGet = "GET /hello?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST(HttpServer, ConvertsRequestOnce) {
  std::promise<Request> seen;
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    seen.set_value(r);
    respond(Response::json(201, R"({"ok":true})"));
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("POST /token?a=b&c=d HTTP/1.1\r\nHost: localhost\r\nX-One: 1\r\n"
                     "x-one: 2\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: 11\r\n\r\ngrant=x&y=z"));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 201);
  EXPECT_EQ(body_of(res), R"({"ok":true})");
  EXPECT_TRUE(has_header(res, "Content-Length: 11"));
  EXPECT_FALSE(has_header(res, "\r\nServer:"));
  const Request r = seen.get_future().get();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/token?a=b&c=d");
  EXPECT_EQ(r.path, "/token");
  EXPECT_EQ(r.query, "a=b&c=d");
  EXPECT_EQ(r.body, "grant=x&y=z");
  EXPECT_EQ(r.headers.count("x-one"), 2u);
  EXPECT_EQ(r.headers.get("content-type").value_or(""), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_EQ(r.local_port, srv.port);
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(r.peer_certificate, nullptr);
}

TEST(HttpDate, ImfFixdateWhateverTheLocale) {
  // RFC 9110 §5.6.7's own example.
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(1796601600), "Mon, 07 Dec 2026 00:00:00 GMT");
  EXPECT_EQ(http_date_now().size(), 29u);
}

TEST(HttpServer, EveryResponseHasADateUnlessTheHandlerSetOne) {
  // RFC 9110 §6.6.1 (and FAPI 1.0 Part 1 §6.2.1-10 for resource servers).
  auto srv = TestServer::start(handler([](Request r, Responder respond) {
    auto res = Response::json(r.path == "/bad" ? 400 : 200, "{}");
    if (r.path == "/own") {
      res.headers.add("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    }
    respond(std::move(res));
  }));
  RawConnection c(srv.port);
  for (const char* path : {"/ok", "/bad"}) {
    ASSERT_TRUE(c.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto res = c.read_response();
    const auto at = res.find("\r\nDate: ");
    ASSERT_NE(at, std::string::npos) << path;
    EXPECT_EQ(res.substr(at + 8 + 25, 4), " GMT") << res;  // 29 characters after "\r\nDate: "
    EXPECT_EQ(res.find("\r\nDate: ", at + 1), std::string::npos) << "one Date only";
  }
  ASSERT_TRUE(c.send("GET /own HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto own = c.read_response();
  EXPECT_TRUE(has_header(own, "Date: Sun, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_EQ(own.find("\r\nDate: ", own.find("\r\nDate: ") + 1), std::string::npos);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto srv = TestServer::start(testing::echo_handler());
  RawConnection c(srv.port);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(kGet));
    const auto res = c.read_response();
    ASSERT_EQ(status_of(res), 200) << i;
    EXPECT_EQ(body_of(res), "GET /hello?x=1 ");
  }
  // Two pipelined requests are answered in order.
  ASSERT_TRUE(c.send(std::string(kGet) + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(c.read_response()), "GET /hello?x=1 ");
  EXPECT_EQ(body_of(c.read_response()), "GET /second? ");
  EXPECT_EQ(srv.server->stats().connections_accepted, 1u);
  EXPECT_EQ(srv.server->stats().requests, 7u);
}

TEST(HttpServer, MaxRequestsPerConnectionClosesAfterTheLast) {
  config::Limits limits;
  limits.max_requests_per_connection = 2;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  EXPECT_FALSE(has_header(c.read_response(), "Connection: close"));
  ASSERT_TRUE(c.send(kGet));
  EXPECT_TRUE(has_header(c.read_response(), "Connection: close"));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, OversizedHeaderIs431) {
  config::Limits limits;
  limits.max_header_bytes = 1024;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') +
                     "\r\n\r\n"));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 431);
  EXPECT_TRUE(has_header(res, "Connection: close"));
  EXPECT_TRUE(has_header(res, "Content-Type: application/json"));
  EXPECT_NE(body_of(res).find(R"("error":"invalid_request")"), std::string::npos) << res;
  EXPECT_NE(body_of(res).find("error_description"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(srv.server->stats().refused, 1u);
  EXPECT_EQ(srv.server->stats().requests, 0u);
}

TEST(HttpServer, TooManyHeaderFieldsIs431) {
  config::Limits limits;
  limits.max_header_count = 10;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20; ++i) {
    req += "X-H" + std::to_string(i) + ": v\r\n";
  }
  ASSERT_TRUE(c.send(req + "\r\n"));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 431);
  EXPECT_NE(body_of(res).find("too many header fields"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, OversizedBodyIs413) {
  config::Limits limits;
  limits.max_body_bytes = 1000;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                       std::string(100, 'b')));
    const auto res = c.read_response();
    EXPECT_EQ(status_of(res), 413);
    EXPECT_TRUE(has_header(res, "Connection: close"));
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Chunked: the limit applies to the decoded body as it arrives.
    RawConnection c(srv.port);
    std::string chunk(800, 'c');
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
    EXPECT_EQ(status_of(c.read_response()), 413);
  }
  {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                       std::string(1000, 'd')));
    EXPECT_EQ(status_of(c.read_response()), 200);
  }
}

TEST(HttpServer, MalformedRequestsAre400) {
  auto srv = TestServer::start(testing::echo_handler());
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                          "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                          "GET /a b HTTP/1.1\r\n\r\n"}) {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send(bad));
    const auto res = c.read_response();
    EXPECT_EQ(status_of(res), 400) << bad;
    EXPECT_TRUE(has_header(res, "Connection: close")) << bad;
    EXPECT_NE(body_of(res).find(R"("error":"invalid_request")"), std::string::npos) << bad;
  }
  // The server is still fine.
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  EXPECT_EQ(status_of(c.read_response()), 200);
}

// RFC 9112 §3.2 and §6.1, found by fuzz_http_request_head (tests/fuzz/regressions/
// http_request_head): Beast accepts these, so the server refuses them itself. A coding other
// than plain chunked left the body unframed: "Transfer-Encoding: gzip" read as an empty body,
// and the body as the next request on the connection (request smuggling behind a proxy that
// honours the coding).
TEST(HttpServer, FramingAndHostRulesOfRfc9112Are400) {
  std::atomic<int> handled{0};
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    ++handled;
    respond(Response::text(200, r.path));
  }));
  for (const char* bad : {
           "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a.example\r\nHost: admin.example\r\n\r\n",
           "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
           "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
           "\r\n0\r\n\r\n"}) {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send(bad));
    const auto res = c.read_response();
    EXPECT_EQ(status_of(res), 400) << bad;
    EXPECT_TRUE(has_header(res, "Connection: close")) << bad;
    EXPECT_NE(body_of(res).find(R"("error":"invalid_request")"), std::string::npos) << bad;
    EXPECT_TRUE(c.closed_by_peer()) << bad;
  }
  EXPECT_EQ(handled.load(), 0);
  // Still served: HTTP/1.0 without Host, plain chunked (any case), Content-Length.
  for (const char* good : {"GET /ten HTTP/1.0\r\n\r\n",
                           "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                           "Connection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                           "POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                           "Connection: close\r\n\r\nok"}) {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send(good));
    EXPECT_EQ(status_of(c.read_response()), 200) << good;
  }
  EXPECT_EQ(handled.load(), 3);
}

// RFC 9112 §3.2 / RFC 3986 §2.1: octets outside visible ASCII in the request-target (Beast
// accepts 0x80-0xFF there) are a 400 from the server, never handed on; found by
// tests/integration/hostile_input_test.cpp, where the gateway answered 502 for them.
TEST(HttpServer, NonAsciiOctetsInTheRequestTargetAre400) {
  std::atomic<int> handled{0};
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    ++handled;
    respond(Response::text(200, r.path));
  }));
  for (const char* bad : {"GET /accounts?x=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET /acc\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET /a\x80 HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send(bad));
    const auto res = c.read_response();
    EXPECT_EQ(status_of(res), 400) << bad;
    EXPECT_EQ(body_of(res),
              R"({"error":"invalid_request","error_description":"malformed request target"})");
    EXPECT_TRUE(c.closed_by_peer());
  }
  EXPECT_EQ(handled.load(), 0);
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("GET /acc%C3%A9?x=%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(c.read_response()), 200) << "percent-encoded, the same octets are fine";
}

// RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (a 1.0 hop in
// front may not have framed it as chunked): refused before any handler sees it.
TEST(HttpServer, TransferEncodingInHttp10Is400) {
  std::atomic<int> handled{0};
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    ++handled;
    respond(Response::text(200, r.path));
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
                     "\r\n0\r\n\r\nGET /second HTTP/1.0\r\n\r\n"));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 400);
  EXPECT_EQ(body_of(res),
            R"({"error":"invalid_request","error_description":"unsupported Transfer-Encoding"})");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(handled.load(), 0);
}

TEST(HttpServer, FinalChunkArrivingInPiecesIsServed) {
  // The last chunk, then its CRLF one byte at a time: Beast 1.81 asserts on the four bytes it
  // then holds, which aborted debug and sanitizer builds (src/http/boost_beast.cpp). The
  // request is complete and valid and must simply be served.
  std::atomic<int> handled{0};
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    ++handled;
    respond(Response::text(200, "body=" + r.body));
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n"));
  for (std::string_view piece : {"0\r\n", "\r", "\n"}) {
    std::this_thread::sleep_for(50ms);  // separate reads on the server
    ASSERT_TRUE(c.send(piece));
  }
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 200);
  EXPECT_EQ(body_of(res), "body=abc");
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServer, SlowClientIsDisconnectedAtReadTimeout) {
  config::Limits limits;
  limits.read_timeout_ms = 300;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  EXPECT_TRUE(c.closed_by_peer());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(HttpServer, TrickleDoesNotExtendTheReadTimeout) {
  config::Limits limits;
  limits.read_timeout_ms = 400;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port, 200);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n"));
  bool closed = false;
  for (int i = 0; i < 30 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);
    closed = !c.send("X-Slow: 1\r\n");
  }
  closed = closed || c.closed_by_peer();
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  config::Limits limits;
  limits.idle_timeout_ms = 200;
  auto srv = TestServer::start(testing::echo_handler(), limits);
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  EXPECT_EQ(status_of(c.read_response()), 200);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(HttpServer, ResponderCalledLaterFromAnotherThread) {
  std::mutex mu;
  std::vector<std::thread> threads;
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    std::lock_guard lock(mu);
    threads.emplace_back([respond, path = r.path] {
      std::this_thread::sleep_for(50ms);
      respond(Response::text(200, "late " + path));
    });
  }));
  RawConnection c(srv.port);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(body_of(c.read_response()), "late /p" + std::to_string(i));
  }
  for (auto& t : threads) {
    t.join();
  }
}

TEST(HttpServer, ResponderIsExactlyOnceAndSafeAfterTheConnectionIsGone) {
  std::promise<Responder> saved;
  auto srv = TestServer::start(handler([&](Request, Responder respond) {
    respond(Response::text(200, "first"));
    respond(Response::text(500, "second"));  // ignored
    saved.set_value(respond);
  }));
  {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send(kGet));
    EXPECT_EQ(body_of(c.read_response()), "first");
  }
  auto respond = saved.get_future().get();
  // The connection is closed and then the server is gone: calling stays harmless.
  respond(Response::text(200, "too late"));
  srv.server->stop(0ms);
  srv.server->wait();
  srv.server.reset();
  respond(Response::text(200, "way too late"));
}

TEST(HttpServer, HandlerExceptionIs500AndClose) {
  auto srv = TestServer::start(handler([](Request, Responder) -> void {
    throw std::runtime_error("boom");
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 500);
  EXPECT_TRUE(has_header(res, "Connection: close"));
  EXPECT_EQ(body_of(res).find("boom"), std::string::npos);  // no internal detail
  EXPECT_NE(body_of(res).find("server_error"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(srv.server->stats().handler_errors, 1u);
}

TEST(HttpServer, DroppedResponderIs500) {
  auto srv = TestServer::start(handler([](Request, Responder) {}));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  EXPECT_EQ(status_of(c.read_response()), 500);
}

TEST(HttpServer, InvalidResponseFromHandlerIsSanitised) {
  auto srv = TestServer::start(handler([](Request r, Responder respond) {
    if (r.path == "/status") {
      respond(Response::text(42, "x"));
      return;
    }
    Response res = Response::text(200, "ok");
    res.headers.add("X-Injected", "a\r\nSet-Cookie: evil=1");
    res.headers.add("Content-Length", "999");
    respond(std::move(res));
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("GET /headers HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto res = c.read_response();
  EXPECT_EQ(status_of(res), 200);
  EXPECT_FALSE(has_header(res, "Set-Cookie"));
  EXPECT_TRUE(has_header(res, "Content-Length: 2"));
  RawConnection c2(srv.port);
  ASSERT_TRUE(c2.send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(status_of(c2.read_response()), 500);
}

TEST(HttpServer, HeadAndNoContentResponsesHaveNoBody) {
  auto srv = TestServer::start(handler([](Request r, Responder respond) {
    respond(Response::text(r.path == "/none" ? 204 : 200, "hello"));
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto head = c.read_head();
  EXPECT_EQ(status_of(head), 200);
  EXPECT_TRUE(has_header(head, "Content-Length: 5"));
  EXPECT_EQ(body_of(c.read_response()), "hello");  // no stray body bytes in between
  RawConnection c2(srv.port);
  ASSERT_TRUE(c2.send("GET /none HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto first = c2.read_response();
  EXPECT_EQ(status_of(first), 204);
  EXPECT_EQ(body_of(first), "");
  EXPECT_EQ(body_of(c2.read_response()), "hello");
}

TEST(HttpServer, GracefulStopFinishesAnInFlightRequest) {
  std::promise<void> entered;
  std::thread worker;
  auto srv = TestServer::start(handler([&](Request r, Responder respond) {
    if (r.path != "/slow") {
      respond(Response::text(200, "quick"));
      return;
    }
    entered.set_value();
    worker = std::thread([respond] {
      std::this_thread::sleep_for(300ms);
      respond(Response::text(200, "finished"));
    });
  }));
  // An idle keep-alive connection is closed at once by the stop.
  RawConnection idle(srv.port);
  ASSERT_TRUE(idle.send(kGet));
  EXPECT_EQ(body_of(idle.read_response()), "quick");
  RawConnection busy(srv.port);
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  srv.server->stop(5s);
  EXPECT_TRUE(idle.closed_by_peer());
  const auto res = busy.read_response();
  EXPECT_EQ(status_of(res), 200);
  EXPECT_EQ(body_of(res), "finished");
  EXPECT_TRUE(has_header(res, "Connection: close"));
  srv.server->wait();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  worker.join();
  // No listener any more.
  RawConnection late(srv.port);
  EXPECT_FALSE(late.connected());
}

TEST(HttpServer, StopDeadlineClosesAHandlerThatNeverAnswers) {
  std::promise<Responder> stuck;
  auto srv = TestServer::start(handler([&](Request, Responder respond) {
    stuck.set_value(respond);
  }));
  RawConnection c(srv.port);
  ASSERT_TRUE(c.send(kGet));
  auto respond = stuck.get_future().get();
  const auto t0 = std::chrono::steady_clock::now();
  srv.server->stop(200ms);
  srv.server->wait();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_TRUE(c.closed_by_peer());
  respond(Response::text(200, "after stop"));  // harmless
}

TEST(HttpServer, ListensOnEveryWorkerWithOnePort) {
  auto srv = TestServer::start(testing::echo_handler(), {}, std::nullopt, 4);
  for (int i = 0; i < 20; ++i) {
    RawConnection c(srv.port);
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(status_of(c.read_response()), 200);
  }
  EXPECT_EQ(srv.server->stats().connections_accepted, 20u);
}

TEST(HttpServer, CreateNamesTheListenerAndFile) {
  ServerOptions options;
  options.threads = 1;
  ListenerSpec spec;
  spec.name = "gateway";
  spec.listener.tls = config::Tls{"/no/such/cert.pem", "/no/such/key.pem", "", {}};
  spec.handler = testing::echo_handler();
  options.listeners.push_back(spec);
  std::string detail;
  auto created = Server::create(options, &detail);
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(detail.find("gateway"), std::string::npos) << detail;
  EXPECT_NE(detail.find("/no/such/cert.pem"), std::string::npos) << detail;

  spec.listener.tls.reset();
  spec.listener.address = "not-an-address";
  options.listeners = {spec};
  EXPECT_FALSE(Server::create(options).has_value());
}

TEST(HttpServer, DestroyWithoutStartIsClean) {
  ServerOptions options;
  options.threads = 2;
  ListenerSpec spec;
  spec.name = "x";
  spec.handler = testing::echo_handler();
  options.listeners.push_back(spec);
  auto created = Server::create(options);
  ASSERT_TRUE(created.has_value());
  EXPECT_NE((*created)->bound_port("x"), 0);
  EXPECT_EQ((*created)->bound_port("nope"), 0);
}

}  // namespace
}  // namespace fapigate::http
