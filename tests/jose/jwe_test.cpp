// JWE encryption (RFC 7516 compact, RFC 7518 §4.3 and §5): known answers from an independent
// implementation, the message structure checked by decrypting its key with OpenSSL here, and
// the recipient-key choice from a client's JWKS.
#include <gtest/gtest.h>

#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include "core/base64url.hpp"
#include "core/strings.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwe.hpp"
#include "jose/jwk.hpp"
#include "jose_test_util.hpp"
#include "jwe_test_util.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;
using test::code;
using test::TestKeys;

std::string unb64(std::string_view s) { return core::base64url_decode(s).value(); }

std::string sequence(std::size_t n, unsigned char first) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>(first + i));
  }
  return out;
}

// ---------------------------------------------------------------- known answers

// Produced by npm jose 6.2.18 (CompactEncrypt with setContentEncryptionKey(0, 1, 2, ...) and
// setInitializationVector(0xa0, 0xa1, ...), protected header {"alg":"RSA-OAEP-256","enc":ENC,
// "kid":"enc-1","cty":"JWT"}): its own CBC-HMAC composition and its own GCM call, so these check
// RFC 7518 §5.2.2.1 (key split, padding, AL, tag truncation) and §5.3 against another codebase.
struct Kat {
  ContentEncryption enc;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};
constexpr const char* kKatPlaintext =
    "The true sign of intelligence is not knowledge but imagination. 0123456789";
const Kat kKats[] = {
    {ContentEncryption::A128CbcHs256,
     "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2Iiwia2lkIjoiZW5jLTEiLCJjdHkiOiJKV1QifQ",
     "snkL9O757Sh83g5WZh4andmadIMBd7E-WZROg1kzHPM0EEkeikec27ON6GTsOzuLJtJ3dHe3Mjcoi86LgR4l-UOYmMdAF_"
     "-_pJXtEURS2os",
     "MlIYtKJqPveU_Xi6t965LA"},
    {ContentEncryption::A256CbcHs512,
     "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiZW5jLTEiLCJjdHkiOiJKV1QifQ",
     "RYbEjVgMCO2lwPOaAi2-jyKVWvZLGhfAPJCh_rybFlPLErcm50T_ChozSTntSVH4lCg3rrrTxlPeVyxqLCreq41XHW2-vVl"
     "sCIjznq1HscA",
     "Ow3-pHSClFOBqFUnVxN5nhfXWvbRtFymBus-YMA6b28"},
    {ContentEncryption::A128Gcm,
     "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4R0NNIiwia2lkIjoiZW5jLTEiLCJjdHkiOiJKV1QifQ",
     "_u5dmwr7Rm-qC9xnKDLfBnOHTXzme1HGQnUf-Cet5tu6zSpFL4GCAgiyh6DIvimyySBsIF7g8YTsV_qjigsqXcEAgeFfQ6f"
     "16Co",
     "4xvjjasuX9WfhpwfEcpRQA"},
    {ContentEncryption::A256Gcm,
     "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiZW5jLTEiLCJjdHkiOiJKV1QifQ",
     "snAZDTG5d9pCFu60aVqvuFDFN2T32y4F-2tI5RqLHHLyGCiLj0k9UijwYaxuH6ObMm9mIQ-xfRcvP383yx6rkISNt1wEkNL"
     "XzNs",
     "lhgdOZcvA7xtkWncxZycYw"},
};

TEST(JweContent, MatchesAnIndependentImplementationForEveryEnc) {
  for (const auto& kat : kKats) {
    SCOPED_TRACE(std::string(content_encryption_name(kat.enc)));
    auto out = encrypt_content(kat.enc, sequence(cek_bytes(kat.enc), 0),
                               sequence(iv_bytes(kat.enc), 0xa0), kat.aad, kKatPlaintext);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(core::base64url_encode(out->ciphertext), kat.ciphertext);
    EXPECT_EQ(core::base64url_encode(out->tag), kat.tag);
  }
}

TEST(JweContent, TheTagCoversTheHeaderAndEveryCiphertextByte) {
  for (const auto& kat : kKats) {
    SCOPED_TRACE(std::string(content_encryption_name(kat.enc)));
    const std::string cek = sequence(cek_bytes(kat.enc), 0);
    const std::string iv = sequence(iv_bytes(kat.enc), 0xa0);
    std::string other_aad = kat.aad;
    other_aad.back() = other_aad.back() == 'Q' ? 'R' : 'Q';
    auto a = encrypt_content(kat.enc, cek, iv, kat.aad, kKatPlaintext);
    auto b = encrypt_content(kat.enc, cek, iv, other_aad, kKatPlaintext);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->ciphertext, b->ciphertext);
    EXPECT_NE(a->tag, b->tag);
  }
}

TEST(JweContent, WrongKeyOrIvSizesAreRefused) {
  for (auto enc : kContentEncryptions) {
    SCOPED_TRACE(std::string(content_encryption_name(enc)));
    const std::string iv = sequence(iv_bytes(enc), 0);
    const std::string cek = sequence(cek_bytes(enc), 0);
    EXPECT_EQ(encrypt_content(enc, sequence(cek_bytes(enc) - 1, 0), iv, "a", "p").error(),
              code(JoseErrc::EncryptionFailed));
    EXPECT_EQ(encrypt_content(enc, cek, sequence(iv_bytes(enc) + 1, 0), "a", "p").error(),
              code(JoseErrc::EncryptionFailed));
    EXPECT_TRUE(encrypt_content(enc, cek, iv, "", ""));  // empty plaintext is a valid message
  }
}

// ---------------------------------------------------------------- compact messages

using test::jwe_parts;
using test::open_jwe;
using test::unwrap_key;

TEST(JweCompact, EveryAlgAndEncGivesAMessageTheRecipientCanOpen) {
  const auto& keys = TestKeys::get();
  const std::string plaintext = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  for (auto alg : kKeyManagementAlgs) {
    for (auto enc : kContentEncryptions) {
      SCOPED_TRACE(std::string(key_management_alg_name(alg)) + " " +
                   std::string(content_encryption_name(enc)));
      auto jwe = encrypt_compact(plaintext, keys.rsa.public_only(), {alg, enc, "enc-1", "JWT"});
      ASSERT_TRUE(jwe) << jwe.error().message();
      auto p = jwe_parts(*jwe);
      ASSERT_EQ(p.size(), 5U);
      auto header = json::parse(unb64(p[0])).as_object();
      EXPECT_EQ(header.at("alg").as_string(), key_management_alg_name(alg));
      EXPECT_EQ(header.at("enc").as_string(), content_encryption_name(enc));
      EXPECT_EQ(header.at("kid").as_string(), "enc-1");
      EXPECT_EQ(header.at("cty").as_string(), "JWT");  // OIDC Core §10.2: a nested JWT
      EXPECT_EQ(header.size(), 4U);
      const char* md = alg == KeyManagementAlg::RsaOaep256 ? "SHA256" : "SHA1";
      const char* other_md = alg == KeyManagementAlg::RsaOaep256 ? "SHA1" : "SHA256";
      auto cek = unwrap_key(keys.rsa, unb64(p[1]), md);
      ASSERT_TRUE(cek);
      EXPECT_EQ(cek->size(), cek_bytes(enc));
      EXPECT_FALSE(unwrap_key(keys.rsa, unb64(p[1]), other_md));  // the alg names the OAEP hash
      EXPECT_FALSE(unwrap_key(keys.rsa2, unb64(p[1]), md));       // only the recipient opens it
      const std::string iv = unb64(p[2]);
      EXPECT_EQ(iv.size(), iv_bytes(enc));
      // The ciphertext and tag are the content encryption of this plaintext under that CEK,
      // IV and header (whose known answers are checked above).
      auto expect = encrypt_content(enc, *cek, iv, p[0], plaintext);
      ASSERT_TRUE(expect);
      EXPECT_EQ(unb64(p[3]), expect->ciphertext);
      EXPECT_EQ(unb64(p[4]), expect->tag);
    }
  }
}

TEST(JweCompact, EveryMessageHasAFreshKeyAndIv) {
  const auto& keys = TestKeys::get();
  std::set<std::string> keys_seen;
  std::set<std::string> ivs_seen;
  for (int i = 0; i < 8; ++i) {
    auto jwe = encrypt_compact("same", keys.rsa.public_only(),
                               {KeyManagementAlg::RsaOaep256, ContentEncryption::A256Gcm, "", ""});
    ASSERT_TRUE(jwe);
    auto p = jwe_parts(*jwe);
    keys_seen.insert(*unwrap_key(keys.rsa, unb64(p[1]), "SHA256"));
    ivs_seen.insert(p[2]);
  }
  EXPECT_EQ(keys_seen.size(), 8U);
  EXPECT_EQ(ivs_seen.size(), 8U);
}

TEST(JweCompact, TheRecipientOpensItAndAnyChangedPartIsRefused) {
  const auto& keys = TestKeys::get();
  for (auto enc : kContentEncryptions) {
    SCOPED_TRACE(std::string(content_encryption_name(enc)));
    const std::string plaintext(100, 'p');
    auto jwe = encrypt_compact(plaintext, keys.rsa.public_only(),
                               {KeyManagementAlg::RsaOaep, enc, "k", "JWT"});
    ASSERT_TRUE(jwe);
    auto opened = open_jwe(*jwe, keys.rsa);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->plaintext, plaintext);
    EXPECT_FALSE(open_jwe(*jwe, keys.rsa2));
    // One character changed in each of the five parts (the header is the AAD).
    std::size_t start = 0;
    for (int part = 0; part < 5; ++part) {
      std::string changed = *jwe;
      changed[start + 1] = changed[start + 1] == 'A' ? 'B' : 'A';
      EXPECT_FALSE(open_jwe(changed, keys.rsa)) << "part " << part;
      start = jwe->find('.', start) + 1;
    }
  }
}

TEST(JweCompact, HeaderOmitsAnEmptyKidAndCty) {
  auto jwe = encrypt_compact("x", TestKeys::get().rsa.public_only(), {});
  ASSERT_TRUE(jwe);
  // The defaults: RSA-OAEP-256 and A128CBC-HS256 (OIDC Registration §2's default enc).
  EXPECT_EQ(unb64(jwe_parts(*jwe)[0]), R"({"alg":"RSA-OAEP-256","enc":"A128CBC-HS256"})");
}

TEST(JweCompact, OnlyRsaRecipientsAreAccepted) {
  const auto& keys = TestKeys::get();
  EXPECT_EQ(encrypt_compact("x", keys.ec.public_only(), {}).error(),
            code(JoseErrc::AlgKeyMismatch));
  EXPECT_EQ(encrypt_compact("x", keys.ed.public_only(), {}).error(),
            code(JoseErrc::AlgKeyMismatch));
}

TEST(JweAlgNames, RoundTripAndRsa15IsNotOffered) {
  for (auto alg : kKeyManagementAlgs) {
    EXPECT_EQ(parse_key_management_alg(key_management_alg_name(alg)), alg);
  }
  for (auto enc : kContentEncryptions) {
    EXPECT_EQ(parse_content_encryption(content_encryption_name(enc)), enc);
  }
  // FAPI 1.0 Part 2 §8.6.1, FAPI 2.0 SP §5.4.1-1; and the key-wrapping modes never offered.
  for (const char* name : {"RSA1_5", "dir", "A128KW", "ECDH-ES", "rsa-oaep-256", ""}) {
    EXPECT_FALSE(parse_key_management_alg(name)) << name;
  }
  for (const char* name : {"A192GCM", "A192CBC-HS384", "a256gcm", ""}) {
    EXPECT_FALSE(parse_content_encryption(name)) << name;
  }
}

// ---------------------------------------------------------------- the recipient's key

json::object jwk_object(const crypto::Key& key, std::string kid) {
  return to_json(make_jwk(key.public_only(), std::move(kid), std::nullopt));
}

std::string jwks(std::initializer_list<json::object> keys) {
  json::array a;
  for (const auto& k : keys) {
    a.emplace_back(k);
  }
  return json::serialize(json::object{{"keys", a}});
}

json::object with(json::object o, std::string_view name, json::value v) {
  o[name] = std::move(v);
  return o;
}

TEST(JweRecipientKey, TheEncryptionKeyIsChosenOverTheSigningKeys) {
  const auto& k = TestKeys::get();
  const auto set = jwks({with(jwk_object(k.rsa2, "sig-1"), "use", "sig"),
                         jwk_object(k.ec, "ec-1"),
                         with(with(jwk_object(k.rsa, "enc-1"), "use", "enc"), "alg",
                              "RSA-OAEP-256")});
  auto found = find_encryption_key(set, KeyManagementAlg::RsaOaep256);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(found->kid, "enc-1");
  EXPECT_TRUE(found->key.same_public_key(k.rsa));
  EXPECT_FALSE(found->key.is_private());
}

TEST(JweRecipientKey, AKeyWithoutUseOrAlgServesAnyAlg) {
  const auto& k = TestKeys::get();
  const auto set = jwks({jwk_object(k.ec, "ec-1"), jwk_object(k.rsa, "any")});
  for (auto alg : kKeyManagementAlgs) {
    auto found = find_encryption_key(set, alg);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->kid, "any");
  }
}

TEST(JweRecipientKey, KeysThatMayNotEncryptWithThatAlgAreSkipped) {
  const auto& k = TestKeys::get();
  const auto enc = with(jwk_object(k.rsa, "enc-1"), "use", "enc");
  struct Case {
    const char* what;
    json::object key;
  } cases[] = {
      {"use sig", with(jwk_object(k.rsa, "s"), "use", "sig")},
      {"another alg", with(enc, "alg", "RSA-OAEP")},
      {"RSA1_5", with(enc, "alg", "RSA1_5")},
      {"a signing alg", with(enc, "alg", "PS256")},
      {"key_ops without wrapKey", with(enc, "key_ops", json::array{"verify"})},
      {"use not a string", with(jwk_object(k.rsa, "s"), "use", 1)},
      {"EC", with(jwk_object(k.ec, "e"), "use", "enc")},
      {"Ed25519", with(jwk_object(k.ed, "o"), "use", "enc")},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(find_encryption_key(jwks({c.key}), KeyManagementAlg::RsaOaep256).error(),
              code(JoseErrc::EncryptionKeyNotFound))
        << c.what;
  }
  EXPECT_TRUE(find_encryption_key(jwks({with(enc, "key_ops", json::array{"wrapKey"})}),
                                  KeyManagementAlg::RsaOaep256));
  EXPECT_TRUE(find_encryption_key(jwks({with(enc, "alg", "RSA-OAEP")}),
                                  KeyManagementAlg::RsaOaep));
}

TEST(JweRecipientKey, APrivateKeyIsNeverUsedAsARecipient) {
  const auto& k = TestKeys::get();
  auto priv = to_json(make_jwk(k.rsa, "p", std::nullopt), /*include_private=*/true);
  EXPECT_EQ(find_encryption_key(jwks({priv}), KeyManagementAlg::RsaOaep256).error(),
            code(JoseErrc::EncryptionKeyNotFound));
}

TEST(JweRecipientKey, NotAJwkSetIsRefused) {
  for (const char* text : {"", "[]", "{}", R"({"keys":{}})", "{\"keys\":[", "null"}) {
    EXPECT_EQ(find_encryption_key(text, KeyManagementAlg::RsaOaep256).error(),
              code(JoseErrc::JwksInvalid))
        << text;
  }
  EXPECT_EQ(find_encryption_key(R"({"keys":[]})", KeyManagementAlg::RsaOaep256).error(),
            code(JoseErrc::EncryptionKeyNotFound));
}

}  // namespace
}  // namespace fapigate::jose
