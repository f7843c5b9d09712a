// The server name a TLS client asks for, read from its ClientHello without decrypting anything
// (what nginx's ssl_preread does), so a passthrough listener can route the whole connection.
// A pure function on bytes: no I/O, no allocation beyond the returned name, bounded by the
// first TLS record (at most 5 + 2^14 bytes are ever looked at), safe on any input. It is the
// fuzzing entry point (tests/passthrough/client_hello_fuzz.cpp; the malformed cases of
// client_hello_test.cpp are its seed corpus). Thread-safe (no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fapigate::passthrough {

// RFC 8446 §5.1: a record's length MUST NOT exceed 2^14.
inline constexpr std::size_t kRecordHeaderBytes = 5;
inline constexpr std::size_t kMaxRecordPayload = 16384;
inline constexpr std::size_t kMaxClientHelloBytes = kRecordHeaderBytes + kMaxRecordPayload;

enum class HelloStatus {
  Ok,          // a whole ClientHello in the first record; `server_name` may be empty (no SNI)
  NeedMore,    // a prefix of a plausible first record: read `needed` bytes in total, then retry
  NotTls,      // not a TLS handshake record (plain HTTP, SSLv2 hello, another content type)
  Malformed,   // a length field that contradicts the bytes, or an invalid server_name extension
  TooLarge,    // the record claims more than 2^14 bytes
  Fragmented,  // the ClientHello continues in a second record: its name is not looked for
};

struct ClientHello {
  HelloStatus status = HelloStatus::NeedMore;
  std::size_t needed = kRecordHeaderBytes;  // NeedMore: total bytes the record needs
  std::string server_name;                  // Ok: host_name of the SNI extension, lower case
  std::string_view detail;                  // Malformed and friends: what was wrong (static)
};

// Parses the first TLS record in `bytes` (what the client has sent so far). Extra bytes after
// the first record are ignored; they are replayed to the backend with the rest.
[[nodiscard]] ClientHello parse_client_hello(std::span<const std::uint8_t> bytes);

// RFC 6066 §3 HostName: an ASCII DNS name (letters, digits, '-', '.' between labels of 1..63),
// at most 253 bytes, no trailing dot; a literal IP address is not a HostName.
[[nodiscard]] bool valid_sni_host_name(std::string_view name);

std::string_view to_string(HelloStatus s);

}  // namespace fapigate::passthrough
