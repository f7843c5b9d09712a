#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/log.hpp"

namespace fapigate::core::metrics {
namespace {

enum Type { kCounter, kGauge, kHistogram };

constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};

[[noreturn]] void misuse(std::string_view what, std::string_view name) {
  // Metric names and label sets are fixed by the code; a bad one is a bug found at start-up.
  log::error("metrics_misuse", {{"what", what}, {"metric", name}});
  std::abort();
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// `a="x",b="y"`, without braces; checks the names on the way.
std::string render_labels(std::string_view metric, const Labels& labels, int type) {
  std::string out;
  std::set<std::string_view> seen;
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k) || !seen.insert(k).second || (type == kHistogram && k == "le")) {
      misuse("invalid or repeated label name", metric);
    }
    if (!out.empty()) {
      out += ',';
    }
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  return out;
}

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels, std::string_view extra, std::string_view value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) {
      out += ',';
    }
    out += extra;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

//----------------------------------------------------------------------------------------------
// Exposition helpers

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  // Shortest round-trip digits; plain notation while it stays short (le="0.0005" as other
  // exporters write it, not "5e-04"), scientific for very large or small values.
  char buf[32];
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (fixed.ec == std::errc() && fixed.ptr - buf <= 20) {
    return std::string(buf, fixed.ptr);
  }
  auto any = std::to_chars(buf, buf + sizeof buf, v);
  return any.ec == std::errc() ? std::string(buf, any.ptr) : std::string("NaN");
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == '_' || name[0] == ':')) {
    return false;
  }
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c) || c == '_' || c == ':')) {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  // Names starting with "__" are reserved for Prometheus' internal use.
  if (name.empty() || !(is_alpha(name[0]) || name[0] == '_') || name.starts_with("__")) {
    return false;
  }
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

//----------------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size())) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      misuse("histogram bounds must be finite and increasing", "");
    }
  }
}

void Histogram::observe(double v) noexcept {
  // A linear scan over ~14 bounds beats a binary search at this size and touches one line.
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Histogram::cumulative(std::size_t i) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t j = 0; j <= i && j < bounds_.size(); ++j) {
    n += buckets_[j].load(std::memory_order_relaxed);
  }
  return n;
}

//----------------------------------------------------------------------------------------------
// Registry

namespace {

struct Series {
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<std::uint64_t()> counter_read;
  std::function<double()> gauge_read;
};

}  // namespace

struct Registry::Family {
  std::string name;
  std::string help;
  int type = kCounter;
  std::map<std::string, Series> series;  // by rendered label set: a stable order
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family_locked(std::string_view name, std::string_view help, int type) {
  if (!valid_metric_name(name)) {
    misuse("invalid metric name", name);
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->type = type;
    it = families_.emplace(f->name, std::move(f)).first;
  } else if (it->second->type != type || it->second->help != help) {
    misuse("metric registered twice with another type or help", name);
  }
  return *it->second;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = family_locked(name, help, kCounter).series[render_labels(name, labels, kCounter)];
  if (s.counter_read) {
    misuse("series registered both as a function and as a counter", name);
  }
  if (!s.counter) {
    s.counter = std::make_unique<Counter>();
  }
  return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = family_locked(name, help, kGauge).series[render_labels(name, labels, kGauge)];
  if (s.gauge_read) {
    misuse("series registered both as a function and as a gauge", name);
  }
  if (!s.gauge) {
    s.gauge = std::make_unique<Gauge>();
  }
  return *s.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               std::span<const double> bounds) {
  std::lock_guard lock(mu_);
  Series& s = family_locked(name, help, kHistogram).series[render_labels(name, labels, kHistogram)];
  if (!s.histogram) {
    s.histogram = std::make_unique<Histogram>(bounds);
  } else if (!std::equal(bounds.begin(), bounds.end(), s.histogram->bounds().begin(),
                         s.histogram->bounds().end())) {
    misuse("histogram registered twice with other bounds", name);
  }
  return *s.histogram;
}

void Registry::counter_fn(std::string_view name, std::string_view help, const Labels& labels,
                          std::function<std::uint64_t()> read) {
  std::lock_guard lock(mu_);
  Series& s = family_locked(name, help, kCounter).series[render_labels(name, labels, kCounter)];
  if (s.counter) {
    misuse("series registered both as a counter and as a function", name);
  }
  s.counter_read = std::move(read);
}

void Registry::gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                        std::function<double()> read) {
  std::lock_guard lock(mu_);
  Series& s = family_locked(name, help, kGauge).series[render_labels(name, labels, kGauge)];
  if (s.gauge) {
    misuse("series registered both as a gauge and as a function", name);
  }
  s.gauge_read = std::move(read);
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += escape_help(f->help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypeNames[f->type];
    out += '\n';
    for (const auto& [labels, s] : f->series) {
      switch (f->type) {
        case kCounter: {
          std::uint64_t v = s.counter ? s.counter->value() : s.counter_read ? s.counter_read() : 0;
          append_series(out, name, "", labels, "", std::to_string(v));
          break;
        }
        case kGauge: {
          double v = s.gauge ? s.gauge->value() : s.gauge_read ? s.gauge_read() : 0;
          append_series(out, name, "", labels, "", format_value(v));
          break;
        }
        case kHistogram: {
          const Histogram& h = *s.histogram;
          // A scrape may race an observe(). The count is read first and every bucket is
          // clamped to it, so the buckets still never decrease and never exceed +Inf.
          const std::uint64_t count = h.count();
          for (std::size_t i = 0; i < h.bounds().size(); ++i) {
            append_series(out, name, "_bucket", labels,
                          "le=\"" + format_value(h.bounds()[i]) + "\"",
                          std::to_string(std::min(h.cumulative(i), count)));
          }
          append_series(out, name, "_bucket", labels, "le=\"+Inf\"", std::to_string(count));
          append_series(out, name, "_sum", labels, "", format_value(h.sum()));
          append_series(out, name, "_count", labels, "", std::to_string(count));
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace fapigate::core::metrics
