// Counters, gauges and histograms with a registry that renders the Prometheus text exposition
// format 0.0.4. Series are registered up front (when a component is built from its config),
// and the request path only touches the returned object: one relaxed atomic add, no lookup by
// string, no allocation. Registration and rendering take the registry's mutex; updates never do.
// Label values must come from configuration or fixed tables (route names, error labels, issuer
// URLs), never from request input: cardinality stays bounded and nothing secret leaks.
// Registering a name twice with another type or help text, or an invalid metric or label name,
// is a programming error and aborts at start-up (Envoy's RELEASE_ASSERT), never on a request.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fapigate::core::metrics {

// Label name/value pairs of one series, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Upper bounds in seconds, for request latencies from half a millisecond to ten seconds.
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

class Counter {
public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0};
};

// Cumulative buckets are computed at render time; observe() bumps one bucket, the sum and the
// count. A scrape racing an observe may see them a moment apart, which Prometheus tolerates.
class Histogram {
public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double v) noexcept;

  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i] (cumulative), for i < bounds().size().
  std::uint64_t cumulative(std::size_t i) const noexcept;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative, one per bound
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Registry {
public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series of `name` with exactly these labels, created on first use. References stay
  // valid for the registry's lifetime.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       std::span<const double> bounds = kLatencyBuckets);

  // A series whose value is read at scrape time from another component's own counters (the
  // HTTP server's stats, a cache's size). `read` runs under the registry's mutex: it must not
  // call back into the registry, and what it captures must outlive every render() (capture a
  // weak_ptr when unsure). Re-registering the same series replaces its function.
  void counter_fn(std::string_view name, std::string_view help, const Labels& labels,
                  std::function<std::uint64_t()> read);
  void gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                std::function<double()> read);

  // Text exposition format 0.0.4: families by name, each with # HELP and # TYPE, series by
  // their rendered label set, so the output is stable whatever the registration order.
  std::string render() const;

private:
  struct Family;
  Family& family_locked(std::string_view name, std::string_view help, int type);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// The media type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposition-format helpers, exposed for tests.
std::string escape_label_value(std::string_view v);  // \ " and newline
std::string escape_help(std::string_view v);         // \ and newline
std::string format_value(double v);                  // shortest round-trip, +Inf, -Inf, NaN
bool valid_metric_name(std::string_view name);       // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);        // [a-zA-Z_][a-zA-Z0-9_]*, no __ prefix

}  // namespace fapigate::core::metrics
