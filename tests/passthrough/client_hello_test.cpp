// passthrough/client_hello: real ClientHellos written by OpenSSL into a memory BIO (TLS 1.3,
// TLS 1.2 only, with and without SNI, with ALPN), every prefix of them, and truncated,
// malformed and oversized inputs. The named inputs are the corpus a fuzzer starts from.
#include "passthrough/client_hello.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fapigate::passthrough {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct HelloOptions {
  std::string sni;
  int max_version = TLS1_3_VERSION;
  bool alpn = false;
};

// The first flight of an OpenSSL client: SSL_connect on memory BIOs writes the ClientHello and
// then wants to read, so the write BIO holds exactly that record.
Bytes openssl_client_hello(const HelloOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, o.max_version);
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  if (!o.sni.empty()) {
    SSL_set_tlsext_host_name(ssl, o.sni.c_str());
  }
  if (o.alpn) {
    static const unsigned char kAlpn[] = "\x08http/1.1\x02h2";
    SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn - 1);
  }
  SSL_set_connect_state(ssl);
  EXPECT_EQ(SSL_connect(ssl), -1);  // wants the server's answer
  char* data = nullptr;
  const long len = BIO_get_mem_data(wbio, &data);
  Bytes out(data, data + len);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

ClientHello parse(const Bytes& b) { return parse_client_hello({b.data(), b.size()}); }

// A hand-made record: handshake header + ClientHello body around the given extensions block.
Bytes make_record(const Bytes& extensions, bool with_ext_len = true) {
  Bytes body = {0x03, 0x03};
  body.insert(body.end(), 32, 0xab);        // random
  body.push_back(0);                        // session id
  body.insert(body.end(), {0x00, 0x02, 0x13, 0x01});  // one suite
  body.insert(body.end(), {0x01, 0x00});    // null compression
  if (with_ext_len) {
    body.push_back(static_cast<std::uint8_t>(extensions.size() >> 8));
    body.push_back(static_cast<std::uint8_t>(extensions.size()));
  }
  body.insert(body.end(), extensions.begin(), extensions.end());
  Bytes hs = {0x01, 0, static_cast<std::uint8_t>(body.size() >> 8),
              static_cast<std::uint8_t>(body.size())};
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {0x16, 0x03, 0x01, static_cast<std::uint8_t>(hs.size() >> 8),
               static_cast<std::uint8_t>(hs.size())};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

Bytes sni_extension(const std::string& name, std::uint8_t type = 0) {
  const std::size_t entry = 3 + name.size();
  Bytes e = {0x00, 0x00, static_cast<std::uint8_t>((entry + 2) >> 8),
             static_cast<std::uint8_t>(entry + 2), static_cast<std::uint8_t>(entry >> 8),
             static_cast<std::uint8_t>(entry), type, static_cast<std::uint8_t>(name.size() >> 8),
             static_cast<std::uint8_t>(name.size())};
  e.insert(e.end(), name.begin(), name.end());
  return e;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ClientHello, OpenSslTls13WithSni) {
  const Bytes b = openssl_client_hello({"as.fapigate.test"});
  ASSERT_GT(b.size(), 100u);
  const auto r = parse(b);
  EXPECT_EQ(r.status, HelloStatus::Ok) << r.detail;
  EXPECT_EQ(r.server_name, "as.fapigate.test");
}

TEST(ClientHello, OpenSslTls12OnlyWithAlpn) {
  const auto r = parse(openssl_client_hello({"api.fapigate.test", TLS1_2_VERSION, true}));
  EXPECT_EQ(r.status, HelloStatus::Ok) << r.detail;
  EXPECT_EQ(r.server_name, "api.fapigate.test");
}

TEST(ClientHello, OpenSslWithoutSniIsOkWithNoName) {
  const auto r = parse(openssl_client_hello({}));
  EXPECT_EQ(r.status, HelloStatus::Ok);
  EXPECT_EQ(r.server_name, "");
}

TEST(ClientHello, NameIsLowerCased) {
  const auto r = parse(openssl_client_hello({"API.Example.COM"}));
  EXPECT_EQ(r.status, HelloStatus::Ok);
  EXPECT_EQ(r.server_name, "api.example.com");
}

TEST(ClientHello, EveryPrefixAsksForMoreUpToTheRecordLength) {
  const Bytes b = openssl_client_hello({"as.fapigate.test"});
  for (std::size_t n = 0; n < b.size(); ++n) {
    const auto r = parse_client_hello({b.data(), n});
    ASSERT_EQ(r.status, HelloStatus::NeedMore) << n;
    if (n >= kRecordHeaderBytes) {
      EXPECT_EQ(r.needed, b.size()) << n;
    }
  }
}

TEST(ClientHello, BytesAfterTheFirstRecordAreIgnored) {
  Bytes b = openssl_client_hello({"as.fapigate.test"});
  b.insert(b.end(), {0x17, 0x03, 0x03, 0x00, 0x01, 0x00});
  const auto r = parse(b);
  EXPECT_EQ(r.status, HelloStatus::Ok);
  EXPECT_EQ(r.server_name, "as.fapigate.test");
}

TEST(ClientHello, HandMadeRecordParses) {
  const auto r = parse(make_record(sni_extension("a.example")));
  EXPECT_EQ(r.status, HelloStatus::Ok) << r.detail;
  EXPECT_EQ(r.server_name, "a.example");
}

TEST(ClientHello, NoExtensionsAtAllIsATls12HelloWithoutName) {
  const auto r = parse(make_record({}, false));
  EXPECT_EQ(r.status, HelloStatus::Ok) << r.detail;
  EXPECT_EQ(r.server_name, "");
}

TEST(ClientHello, PlainHttpIsNotTls) {
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(parse(Bytes(get.begin(), get.end())).status, HelloStatus::NotTls);
}

TEST(ClientHello, Sslv2CompatibleHelloIsNotTls) {
  EXPECT_EQ(parse({0x80, 0x2e, 0x01, 0x03, 0x01}).status, HelloStatus::NotTls);
}

TEST(ClientHello, OtherRecordVersionMajorIsNotTls) {
  EXPECT_EQ(parse({0x16, 0x02}).status, HelloStatus::NotTls);
}

TEST(ClientHello, ApplicationDataFirstIsNotTls) {
  EXPECT_EQ(parse({0x17, 0x03, 0x03, 0x00, 0x05}).status, HelloStatus::NotTls);
}

TEST(ClientHello, ServerHelloInsteadOfClientHelloIsNotTls) {
  Bytes b = make_record(sni_extension("a.example"));
  b[5] = 0x02;
  EXPECT_EQ(parse(b).status, HelloStatus::NotTls);
}

TEST(ClientHello, RecordLongerThan2To14IsTooLarge) {
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0x40, 0x01}).status, HelloStatus::TooLarge);
  // Exactly 2^14 is allowed: the parser waits for it.
  const auto r = parse({0x16, 0x03, 0x01, 0x40, 0x00});
  EXPECT_EQ(r.status, HelloStatus::NeedMore);
  EXPECT_EQ(r.needed, kMaxClientHelloBytes);
}

TEST(ClientHello, EmptyRecordIsMalformed) {
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0x00, 0x00}).status, HelloStatus::Malformed);
}

TEST(ClientHello, HandshakeLongerThanItsRecordIsFragmented) {
  Bytes b = make_record(sni_extension("a.example"));
  b[7] += 1;  // handshake length one more than the record holds
  EXPECT_EQ(parse(b).status, HelloStatus::Fragmented);
}

TEST(ClientHello, HandshakeShorterThanItsRecordIsMalformed) {
  Bytes b = make_record(sni_extension("a.example"));
  b[8] -= 1;
  EXPECT_EQ(parse(b).status, HelloStatus::Malformed);
}

TEST(ClientHello, SessionIdLongerThan32IsMalformed) {
  Bytes b = make_record(sni_extension("a.example"));
  b[5 + 4 + 2 + 32] = 33;
  EXPECT_EQ(parse(b).status, HelloStatus::Malformed);
}

TEST(ClientHello, OddCipherSuitesLengthIsMalformed) {
  Bytes b = make_record(sni_extension("a.example"));
  b[5 + 4 + 2 + 32 + 1 + 1] = 0x03;
  EXPECT_EQ(parse(b).status, HelloStatus::Malformed);
}

TEST(ClientHello, ExtensionsLengthBeyondTheMessageIsMalformed) {
  Bytes ext = sni_extension("a.example");
  Bytes b = make_record(ext);
  const std::size_t at = 5 + 4 + 2 + 32 + 1 + 4 + 2;
  b[at + 1] += 1;
  EXPECT_EQ(parse(b).status, HelloStatus::Malformed);
}

TEST(ClientHello, ExtensionLengthBeyondTheBlockIsMalformed) {
  Bytes ext = sni_extension("a.example");
  ext[3] += 10;
  EXPECT_EQ(parse(make_record(ext)).status, HelloStatus::Malformed);
}

TEST(ClientHello, ServerNameListLengthMismatchIsMalformed) {
  Bytes ext = sni_extension("a.example");
  ext[5] += 1;  // list longer than the extension
  EXPECT_EQ(parse(make_record(ext)).status, HelloStatus::Malformed);
  Bytes shorter = sni_extension("a.example");
  shorter[5] -= 1;  // list shorter than the extension: trailing bytes
  EXPECT_EQ(parse(make_record(shorter)).status, HelloStatus::Malformed);
}

TEST(ClientHello, HostNameLengthBeyondTheListIsMalformed) {
  Bytes ext = sni_extension("a.example");
  ext[8] += 1;
  EXPECT_EQ(parse(make_record(ext)).status, HelloStatus::Malformed);
}

TEST(ClientHello, EmptyServerNameListAndEmptyHostNameAreMalformed) {
  EXPECT_EQ(parse(make_record({0x00, 0x00, 0x00, 0x02, 0x00, 0x00})).status,
            HelloStatus::Malformed);
  EXPECT_EQ(parse(make_record({0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00})).status,
            HelloStatus::Malformed);
}

TEST(ClientHello, DuplicateServerNameExtensionIsMalformed) {
  const auto r = parse(make_record(concat(sni_extension("a.example"), sni_extension("b.example"))));
  EXPECT_EQ(r.status, HelloStatus::Malformed);
}

TEST(ClientHello, TwoHostNamesInOneListAreMalformed) {
  const std::string a = "a.example", b = "b.example";
  Bytes list;
  for (const auto& n : {a, b}) {
    list.insert(list.end(), {0x00, 0x00, static_cast<std::uint8_t>(n.size())});
    list.insert(list.end(), n.begin(), n.end());
  }
  Bytes ext = {0x00, 0x00, 0x00, static_cast<std::uint8_t>(list.size() + 2), 0x00,
               static_cast<std::uint8_t>(list.size())};
  ext.insert(ext.end(), list.begin(), list.end());
  EXPECT_EQ(parse(make_record(ext)).status, HelloStatus::Malformed);
}

TEST(ClientHello, UnknownNameTypeIsSkipped) {
  const auto r = parse(make_record(sni_extension("opaque-thing", 7)));
  EXPECT_EQ(r.status, HelloStatus::Ok);
  EXPECT_EQ(r.server_name, "");
}

TEST(ClientHello, InvalidHostNamesAreMalformed) {
  for (const std::string& bad : std::vector<std::string>{
           "127.0.0.1", "a..b", ".a", "a.", "-a.b", "a-.b", "a b", std::string("a\0b", 3),
           "a_b.example", "[::1]", "\xc3\xa9.fr", std::string(64, 'a') + ".b"}) {
    EXPECT_EQ(parse(make_record(sni_extension(bad))).status, HelloStatus::Malformed) << bad;
  }
}

TEST(ClientHello, HostNameValidation) {
  EXPECT_TRUE(valid_sni_host_name("localhost"));
  EXPECT_TRUE(valid_sni_host_name("a-b.c1.example"));
  EXPECT_TRUE(valid_sni_host_name(std::string(63, 'a') + ".b"));
  EXPECT_TRUE(valid_sni_host_name("1a.example"));
  EXPECT_FALSE(valid_sni_host_name(""));
  EXPECT_FALSE(valid_sni_host_name(std::string(254, 'a')));
  EXPECT_FALSE(valid_sni_host_name("10.0.0.1"));
}

TEST(ClientHello, TruncatedInsideTheRecordNeverReadsPastTheEnd) {
  // Every truncation of a valid hello, with the record length patched to match, must be
  // refused (never Ok with a made-up name, never a read past the end under ASan).
  const Bytes full = openssl_client_hello({"as.fapigate.test"});
  for (std::size_t n = kRecordHeaderBytes + 1; n < full.size(); ++n) {
    Bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const std::size_t len = n - kRecordHeaderBytes;
    b[3] = static_cast<std::uint8_t>(len >> 8);
    b[4] = static_cast<std::uint8_t>(len);
    const auto r = parse(b);
    EXPECT_NE(r.status, HelloStatus::Ok) << n;
    EXPECT_NE(r.status, HelloStatus::NeedMore) << n;
  }
}

TEST(ClientHello, RandomBytesNeverCrash) {
  // A small deterministic fuzz pass (the libFuzzer target would start from the cases above).
  std::uint32_t x = 2463534242u;
  Bytes base = openssl_client_hello({"as.fapigate.test", TLS1_3_VERSION, true});
  for (int round = 0; round < 2000; ++round) {
    Bytes b = base;
    for (int k = 0; k < 4; ++k) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      b[5 + x % (b.size() - 5)] = static_cast<std::uint8_t>(x >> 8);
    }
    const auto r = parse(b);
    if (r.status == HelloStatus::Ok && !r.server_name.empty()) {
      EXPECT_TRUE(valid_sni_host_name(r.server_name));
    }
  }
}

}  // namespace
}  // namespace fapigate::passthrough
