// ClientHello reading per RFC 8446 §4.1.2 (TLS 1.3; the TLS 1.2 message of RFC 5246 §7.4.1.2
// has the same layout) and the server_name extension of RFC 6066 §3. Every length is checked
// against the bytes that are actually there before it is used.
#include "passthrough/client_hello.hpp"

#include <algorithm>

namespace fapigate::passthrough {
namespace {

constexpr std::uint8_t kContentHandshake = 22;   // RFC 8446 §5.1 ContentType.handshake
constexpr std::uint8_t kHandshakeClientHello = 1;
constexpr std::uint16_t kExtServerName = 0;      // RFC 6066 §3
constexpr std::uint8_t kNameTypeHostName = 0;

// A bounds-checked reader over one span; once a read fails every later read fails too.
class Reader {
public:
  explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}

  bool u8(std::uint8_t& v) {
    if (!has(1)) {
      return fail();
    }
    v = b_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (!has(2)) {
      return fail();
    }
    v = static_cast<std::uint16_t>((b_[pos_] << 8) | b_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u24(std::uint32_t& v) {
    if (!has(3)) {
      return fail();
    }
    v = (std::uint32_t(b_[pos_]) << 16) | (std::uint32_t(b_[pos_ + 1]) << 8) | b_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  bool skip(std::size_t n) {
    if (!has(n)) {
      return fail();
    }
    pos_ += n;
    return true;
  }
  // A sub-reader over the next n bytes (a length-prefixed vector), consumed from this one.
  bool sub(std::size_t n, Reader& out) {
    if (!has(n)) {
      return fail();
    }
    out = Reader(b_.subspan(pos_, n));
    pos_ += n;
    return true;
  }
  std::span<const std::uint8_t> rest() const { return b_.subspan(pos_); }
  bool empty() const { return ok_ && pos_ == b_.size(); }
  std::size_t remaining() const { return b_.size() - pos_; }
  bool ok() const { return ok_; }

private:
  bool has(std::size_t n) const { return ok_ && b_.size() - pos_ >= n; }
  bool fail() {
    ok_ = false;
    return false;
  }

  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

ClientHello result(HelloStatus s, std::string_view detail) {
  ClientHello r;
  r.status = s;
  r.needed = 0;
  r.detail = detail;
  return r;
}

ClientHello malformed(std::string_view detail) { return result(HelloStatus::Malformed, detail); }

// RFC 6066 §3: struct { NameType name_type; select (name_type) { case host_name: HostName; } }
// ServerName; struct { ServerName server_name_list<1..2^16-1> } ServerNameList. "The
// ServerNameList MUST NOT contain more than one name of the same name_type."
ClientHello read_server_name(Reader ext, ClientHello& out) {
  std::uint16_t list_len = 0;
  Reader list(std::span<const std::uint8_t>{});
  if (!ext.u16(list_len) || list_len == 0 || !ext.sub(list_len, list) || !ext.empty()) {
    return malformed("server_name list length");
  }
  bool have_host = false;
  while (!list.empty()) {
    std::uint8_t type = 0;
    std::uint16_t len = 0;
    Reader name(std::span<const std::uint8_t>{});
    if (!list.u8(type) || !list.u16(len) || len == 0 || !list.sub(len, name)) {
      return malformed("server_name entry length");
    }
    if (type != kNameTypeHostName) {
      continue;  // another name type (none is defined): not ours to judge
    }
    if (have_host) {
      return malformed("more than one host_name");
    }
    have_host = true;
    const auto bytes = name.rest();
    std::string host(bytes.begin(), bytes.end());
    if (!valid_sni_host_name(host)) {
      return malformed("server_name is not a DNS host name");
    }
    std::transform(host.begin(), host.end(), host.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    out.server_name = std::move(host);
  }
  ClientHello ok;
  ok.status = HelloStatus::Ok;
  return ok;
}

}  // namespace

bool valid_sni_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.back() == '.') {
    return false;
  }
  std::size_t label = 0;
  bool last_label_numeric = true;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') {
        return false;
      }
      label = 0;
      last_label_numeric = true;
      continue;
    }
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!digit && !alpha && c != '-') {
      return false;
    }
    if (c == '-' && label == 0) {
      return false;
    }
    if (++label > 63) {
      return false;
    }
    last_label_numeric = last_label_numeric && digit;
  }
  if (name.back() == '-') {
    return false;
  }
  // An all-numeric last label is an IPv4 literal (no top-level domain is numeric), which
  // RFC 6066 §3 does not permit in HostName.
  return !last_label_numeric;
}

ClientHello parse_client_hello(std::span<const std::uint8_t> bytes) {
  // RFC 8446 §5.1 TLSPlaintext: type(1) legacy_record_version(2) length(2) fragment.
  if (bytes.empty()) {
    return ClientHello{};
  }
  if (bytes[0] != kContentHandshake) {
    return result(HelloStatus::NotTls, "not a handshake record");
  }
  if (bytes.size() >= 2 && bytes[1] != 3) {
    return result(HelloStatus::NotTls, "record version is not 3.x");
  }
  if (bytes.size() < kRecordHeaderBytes) {
    return ClientHello{};
  }
  const std::size_t record_len = (std::size_t(bytes[3]) << 8) | bytes[4];
  if (record_len > kMaxRecordPayload) {
    return result(HelloStatus::TooLarge, "record longer than 2^14 bytes");
  }
  // The smallest handshake header; an empty record is not allowed for handshake content either.
  if (record_len < 4) {
    return malformed("record too short for a handshake message");
  }
  if (bytes.size() < kRecordHeaderBytes + record_len) {
    ClientHello more;
    more.needed = kRecordHeaderBytes + record_len;
    return more;
  }
  Reader record(bytes.subspan(kRecordHeaderBytes, record_len));

  std::uint8_t hs_type = 0;
  std::uint32_t hs_len = 0;
  record.u8(hs_type);
  record.u24(hs_len);
  if (hs_type != kHandshakeClientHello) {
    return result(HelloStatus::NotTls, "first handshake message is not a ClientHello");
  }
  if (hs_len > record.remaining()) {
    // Legal TLS (a handshake message may span records), but only the first record is read.
    return result(HelloStatus::Fragmented, "ClientHello spans more than one record");
  }
  Reader hello(std::span<const std::uint8_t>{});
  record.sub(hs_len, hello);
  if (!record.empty()) {
    // A client sends nothing after its ClientHello before the server answers.
    return malformed("bytes after the ClientHello in its record");
  }

  // legacy_version(2) random(32) legacy_session_id<0..32>
  std::uint16_t version = 0;
  std::uint8_t sid_len = 0;
  if (!hello.u16(version) || !hello.skip(32) || !hello.u8(sid_len) || sid_len > 32 ||
      !hello.skip(sid_len)) {
    return malformed("ClientHello header");
  }
  if ((version >> 8) != 3) {
    return malformed("ClientHello version is not 3.x");
  }
  // cipher_suites<2..2^16-2>: an even, non-zero length.
  std::uint16_t suites_len = 0;
  if (!hello.u16(suites_len) || suites_len < 2 || suites_len % 2 != 0 ||
      !hello.skip(suites_len)) {
    return malformed("cipher_suites length");
  }
  // legacy_compression_methods<1..2^8-1>
  std::uint8_t comp_len = 0;
  if (!hello.u8(comp_len) || comp_len < 1 || !hello.skip(comp_len)) {
    return malformed("compression_methods length");
  }
  ClientHello out;
  out.status = HelloStatus::Ok;
  out.needed = 0;
  if (hello.empty()) {
    return out;  // RFC 5246 §7.4.1.2: extensions may be absent (an old TLS 1.2 client)
  }
  std::uint16_t ext_len = 0;
  Reader exts(std::span<const std::uint8_t>{});
  if (!hello.u16(ext_len) || !hello.sub(ext_len, exts) || !hello.empty()) {
    return malformed("extensions length");
  }
  bool seen_sni = false;
  while (!exts.empty()) {
    std::uint16_t type = 0;
    std::uint16_t len = 0;
    Reader ext(std::span<const std::uint8_t>{});
    if (!exts.u16(type) || !exts.u16(len) || !exts.sub(len, ext)) {
      return malformed("extension length");
    }
    if (type != kExtServerName) {
      continue;
    }
    // RFC 8446 §4.2: no more than one extension of the same type.
    if (seen_sni) {
      return malformed("duplicate server_name extension");
    }
    seen_sni = true;
    ClientHello sni = read_server_name(ext, out);
    if (sni.status != HelloStatus::Ok) {
      return sni;
    }
  }
  return out;
}

std::string_view to_string(HelloStatus s) {
  switch (s) {
    case HelloStatus::Ok: return "ok";
    case HelloStatus::NeedMore: return "need_more";
    case HelloStatus::NotTls: return "not_tls";
    case HelloStatus::Malformed: return "malformed";
    case HelloStatus::TooLarge: return "too_large";
    case HelloStatus::Fragmented: return "fragmented";
  }
  return "unknown";
}

}  // namespace fapigate::passthrough
