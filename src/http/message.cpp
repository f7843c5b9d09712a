#include "http/message.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/strings.hpp"

namespace fapigate::http {

std::string http_date(std::int64_t epoch) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto tt = static_cast<std::time_t>(epoch);
  std::tm tm{};
  if (::gmtime_r(&tt, &tm) == nullptr || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
    return {};
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

const std::string& http_date_now() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached = http_date(now);
    cached_second = now;
  }
  return cached;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (core::iequals(f.name, name)) {
      return std::string_view(f.value);
    }
  }
  return std::nullopt;
}

std::size_t Headers::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const Field& f) { return core::iequals(f.name, name); }));
}

void Headers::add(std::string name, std::string value) {
  if (fields_.empty()) {
    // One allocation for a typical message instead of four regrowths (1, 2, 4, 8, 16) each
    // moving every field: four header sets are built per proxied request.
    fields_.reserve(kTypicalFieldCount);
  }
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return core::iequals(f.name, name); });
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

namespace {

class ClientCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.http_client"; }
  std::string message(int ev) const override {
    switch (static_cast<ClientErrc>(ev)) {
      case ClientErrc::ConnectTimeout:
        return "connect timeout (nothing was sent)";
    }
    return "unknown http client error";
  }
};

}  // namespace

ErrorCode make_error_code(ClientErrc e) {
  static const ClientCategory category;
  return {static_cast<int>(e), category};
}

}  // namespace fapigate::http
