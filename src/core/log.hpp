// Structured logging: one JSON object per line on stderr (spdlog underneath). Callers pass an
// event name and key/value fields; values are escaped here. Never pass a token, assertion,
// secret or key: log a hash prefix (crypto::fingerprint) or a jti instead (STYLE.md §6).
// Thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace fapigate::core::log {

enum class Level { Debug, Info, Warn, Error, Off };

struct Field {
  std::string_view key;
  std::string value;
  bool raw = false;  // value is already JSON (a number or a boolean)

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, double v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), raw(true) {}
};

// Sets the level and output ("json" lines, or "text" for a person at a terminal).
void configure(Level level, bool json = true);
bool parse_level(std::string_view name, Level& out);
bool enabled(Level level);

void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::Debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::Info, e, f); }
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::Warn, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::Error, e, f); }

// The JSON line write() would emit, without the timestamp; exposed for tests.
std::string format_for_test(Level level, std::string_view event, std::initializer_list<Field> f);

}  // namespace fapigate::core::log
