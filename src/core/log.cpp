#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json.hpp"

namespace fapigate::core::log {
namespace {

std::atomic<Level> g_level{Level::Info};
std::atomic<bool> g_json{true};

std::shared_ptr<spdlog::logger> logger() {
  // stderr, unbuffered and thread-safe; the pattern is only the message, we build the JSON.
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("fapigate", sink);
    lg->set_pattern("%v");
    lg->set_level(spdlog::level::trace);
    lg->flush_on(spdlog::level::trace);
    return lg;
  }();
  return l;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: return "off";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

std::string build(Level level, std::string_view event, std::initializer_list<Field> fields,
                  const std::string* ts) {
  std::string line;
  line.reserve(128);
  line += '{';
  if (ts) {
    line += "\"ts\":\"";
    line += *ts;
    line += "\",";
  }
  line += "\"level\":\"";
  line += level_name(level);
  line += "\",\"event\":";
  line += json_quote(event);
  for (const auto& f : fields) {
    line += ',';
    line += json_quote(f.key);
    line += ':';
    line += f.raw ? f.value : json_quote(f.value);
  }
  line += '}';
  return line;
}

}  // namespace

void configure(Level level, bool json) {
  g_level = level;
  g_json = json;
}

bool parse_level(std::string_view name, Level& out) {
  if (name == "debug") out = Level::Debug;
  else if (name == "info") out = Level::Info;
  else if (name == "warn" || name == "warning") out = Level::Warn;
  else if (name == "error") out = Level::Error;
  else if (name == "off") out = Level::Off;
  else return false;
  return true;
}

bool enabled(Level level) { return level >= g_level.load() && level != Level::Off; }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) {
    return;
  }
  std::string ts = timestamp();
  if (g_json) {
    logger()->info(build(level, event, fields, &ts));
    return;
  }
  std::string line = ts + " " + level_name(level) + " " + std::string(event);
  for (const auto& f : fields) {
    line += " ";
    line += f.key;
    line += "=";
    line += f.value;
  }
  logger()->info(line);
}

std::string format_for_test(Level level, std::string_view event, std::initializer_list<Field> f) {
  return build(level, event, f, nullptr);
}

}  // namespace fapigate::core::log
