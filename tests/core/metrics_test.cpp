#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace fapigate::core::metrics {
namespace {

// One line of the text format 0.0.4: a comment, or name{labels} value [timestamp].
bool is_exposition_line(const std::string& line) {
  static const std::regex kSample(
      R"re([a-zA-Z_:][a-zA-Z0-9_:]*)re"
      R"re((\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")re"
      R"re((,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? )re"
      R"re((NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)( -?[0-9]+)?)re");
  return line.starts_with("# ") || std::regex_match(line, kSample);
}

TEST(Metrics, RendersCountersGaugesAndHistogramsExactly) {
  Registry r;
  r.counter("fapigate_b_total", "Bs seen.", {{"route", "payments"}}).inc(3);
  r.counter("fapigate_b_total", "Bs seen.", {{"route", "accounts"}}).inc();
  r.gauge("fapigate_a", "An a.").set(2.5);
  const double bounds[] = {0.1, 1};
  auto& h = r.histogram("fapigate_c_seconds", "Cs.", {{"route", "x"}}, bounds);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7);

  EXPECT_EQ(r.render(),
            "# HELP fapigate_a An a.\n"
            "# TYPE fapigate_a gauge\n"
            "fapigate_a 2.5\n"
            "# HELP fapigate_b_total Bs seen.\n"
            "# TYPE fapigate_b_total counter\n"
            "fapigate_b_total{route=\"accounts\"} 1\n"
            "fapigate_b_total{route=\"payments\"} 3\n"
            "# HELP fapigate_c_seconds Cs.\n"
            "# TYPE fapigate_c_seconds histogram\n"
            "fapigate_c_seconds_bucket{route=\"x\",le=\"0.1\"} 1\n"
            "fapigate_c_seconds_bucket{route=\"x\",le=\"1\"} 2\n"
            "fapigate_c_seconds_bucket{route=\"x\",le=\"+Inf\"} 3\n"
            "fapigate_c_seconds_sum{route=\"x\"} 7.55\n"
            "fapigate_c_seconds_count{route=\"x\"} 3\n");
  std::istringstream in(r.render());
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(is_exposition_line(line)) << line;
  }
  EXPECT_FALSE(is_exposition_line("bad name 1"));
  EXPECT_FALSE(is_exposition_line("x{a=\"unterminated} 1"));
}

TEST(Metrics, HistogramWithoutLabelsPutsLeAlone) {
  Registry r;
  const double bounds[] = {1};
  r.histogram("h", "h.", {}, bounds).observe(1);  // le is inclusive
  EXPECT_EQ(r.render(),
            "# HELP h h.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
}

TEST(Metrics, DefaultLatencyBucketsCoverHalfAMillisecondToTenSeconds) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.");
  ASSERT_EQ(h.bounds().size(), 14u);
  EXPECT_EQ(h.bounds().front(), 0.0005);
  EXPECT_EQ(h.bounds().back(), 10);
  h.observe(0.0003);
  h.observe(0.003);
  h.observe(60);
  EXPECT_EQ(h.cumulative(0), 1u);   // <= 0.0005
  EXPECT_EQ(h.cumulative(3), 2u);   // <= 0.005
  EXPECT_EQ(h.cumulative(13), 2u);  // <= 10: the 60 s one is only in +Inf
  EXPECT_EQ(h.count(), 3u);
  const std::string text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
}

TEST(Metrics, EscapesLabelValuesAndHelpPerTheFormat) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\n"
                               "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_help("back\\slash \"quotes\" stay\nnew"), R"(back\\slash "quotes" stay\nnew)");
  Registry r;
  r.counter("x_total", "Line one\nline \\two", {{"issuer", "https://as\"x\"\\y\n"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP x_total Line one\\nline \\\\two\n"
            "# TYPE x_total counter\n"
            "x_total{issuer=\"https://as\\\"x\\\"\\\\y\\n\"} 1\n");
}

TEST(Metrics, FormatsSpecialAndShortestValues) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(1e-30), "1e-30");
  EXPECT_EQ(format_value(1.5e300), "1.5e+300");
}

TEST(Metrics, ValidatesNames) {
  EXPECT_TRUE(valid_metric_name("fapigate_http:requests_total"));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("with-dash"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("route_2"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("2a"));
}

TEST(Metrics, RegistrationIsIdempotentAndOrderIndependent) {
  Registry a;
  Registry b;
  Counter& c1 = a.counter("n_total", "N.", {{"k", "1"}});
  Counter& c2 = a.counter("n_total", "N.", {{"k", "1"}});
  EXPECT_EQ(&c1, &c2);
  c1.inc();
  a.counter("n_total", "N.", {{"k", "2"}});
  a.gauge("g", "G.");
  b.gauge("g", "G.");
  b.counter("n_total", "N.", {{"k", "2"}});
  b.counter("n_total", "N.", {{"k", "1"}}).inc();
  EXPECT_EQ(a.render(), b.render());
}

TEST(Metrics, FunctionSeriesAreReadAtScrapeTime) {
  Registry r;
  std::uint64_t accepted = 5;
  double active = 2;
  r.counter_fn("conn_total", "Accepted.", {}, [&accepted] { return accepted; });
  r.gauge_fn("conn_active", "Open.", {{"listener", "admin"}}, [&active] { return active; });
  EXPECT_NE(r.render().find("conn_total 5\n"), std::string::npos);
  accepted = 9;
  active = 0;
  const std::string text = r.render();
  EXPECT_NE(text.find("conn_total 9\n"), std::string::npos) << text;
  EXPECT_NE(text.find("conn_active{listener=\"admin\"} 0\n"), std::string::npos) << text;
}

TEST(MetricsDeathTest, MisuseAbortsAtRegistration) {
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("same", "Help.");
        r.gauge("same", "Help.");
      },
      "");
  EXPECT_DEATH({ Registry().counter("bad-name", "Help."); }, "");
  EXPECT_DEATH({ Registry().counter("ok_total", "Help.", {{"le x", "1"}}); }, "");
  EXPECT_DEATH({ Registry().histogram("h", "Help.", {{"le", "1"}}); }, "");
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  Counter& c = r.counter("c_total", "C.");
  Gauge& g = r.gauge("g", "G.");
  Histogram& h = r.histogram("h_seconds", "H.");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        g.add(1);
        h.observe(0.002);
      }
    });
  }
  // Scrapes race the writers: each must still be well-formed (checked by parsing below).
  std::string last;
  for (int i = 0; i < 20; ++i) {
    last = r.render();
  }
  for (auto& t : threads) {
    t.join();
  }
  std::istringstream in(last);
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(is_exposition_line(line)) << line;
  }
  constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(c.value(), kTotal);
  EXPECT_EQ(g.value(), static_cast<double>(kTotal));
  EXPECT_EQ(h.count(), kTotal);
  EXPECT_EQ(h.cumulative(1), 0u);      // <= 0.001
  EXPECT_EQ(h.cumulative(2), kTotal);  // <= 0.0025
  EXPECT_NEAR(h.sum(), 0.002 * kTotal, 1e-6 * kTotal);
  const std::string text = r.render();
  EXPECT_NE(text.find("c_total " + std::to_string(kTotal) + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count " + std::to_string(kTotal) + "\n"), std::string::npos);
}

TEST(Metrics, RenderedBucketsNeverDecreaseWhileObserving) {
  Registry r;
  Histogram& h = r.histogram("h_seconds", "H.");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    double v = 0.0001;
    while (!stop.load()) {
      h.observe(v);
      v = v > 20 ? 0.0001 : v * 1.7;
    }
  });
  const std::regex bucket(R"re(h_seconds_bucket\{le="[^"]+"\} (\d+))re");
  for (int i = 0; i < 200; ++i) {
    std::istringstream in(r.render());
    std::string line;
    std::uint64_t prev = 0;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_match(line, m, bucket)) {
        std::uint64_t n = std::stoull(m[1]);
        ASSERT_GE(n, prev) << line;
        prev = n;
      }
    }
  }
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace fapigate::core::metrics
