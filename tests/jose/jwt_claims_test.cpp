// JWT claim checks: iss, aud (string or array), exp / nbf / iat at and around the skew
// boundaries, JSON types, max_lifetime.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "jose/jose_errc.hpp"
#include "jose/jwt_claims.hpp"
#include "jose_test_util.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;
using test::code;

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kSkew = 10;

json::object claims(std::string_view text) { return json::parse(text).as_object(); }

ClaimExpectations expect_at(std::int64_t now = kNow) {
  ClaimExpectations e;
  e.issuer = "https://as.example";
  e.audiences = {"https://api.example"};
  e.now = now;
  e.skew_seconds = kSkew;
  return e;
}

std::string token_claims(std::int64_t exp) {
  return R"({"iss":"https://as.example","aud":"https://api.example","exp":)" +
         std::to_string(exp) + "}";
}

Result<void> check(std::string_view text, const ClaimExpectations& e = expect_at()) {
  return check_claims(claims(text), e);
}

void expect_error(const Result<void>& r, JoseErrc e) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), code(e)) << r.error().message();
}

// ---------------------------------------------------------------- accepted

TEST(JwtClaims, AcceptsTypicalAccessToken) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example","sub":"alice",
      "iat":1699999990,"nbf":1699999990,"exp":1700000300,"jti":"j1","scope":"payments"})"));
}

TEST(JwtClaims, AcceptsAudienceArrayContainingExpected) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":["https://x","https://api.example"],
      "exp":1700000300})"));
}

TEST(JwtClaims, AcceptsAnyOfSeveralExpectedAudiences) {
  auto e = expect_at();
  e.audiences = {"https://a", "https://api.example"};
  EXPECT_TRUE(check(token_claims(kNow + 60), e));
}

TEST(JwtClaims, AcceptsWithoutIssuerOrAudienceExpectations) {
  ClaimExpectations e;
  e.now = kNow;
  EXPECT_TRUE(check(R"({"exp":1700000300})", e));
}

TEST(JwtClaims, AcceptsMissingExpWhenNotRequired) {
  auto e = expect_at();
  e.require_exp = false;
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example"})", e));
}

TEST(JwtClaims, AcceptsFractionalNumericDates) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1700000005.75,"iat":1699999999.5})"));
}

TEST(JwtClaims, ExpExactlyAtSkewBoundaryIsAccepted) {
  EXPECT_TRUE(check(token_claims(kNow - kSkew)));  // now == exp + skew
}

TEST(JwtClaims, NbfExactlyAtSkewBoundaryIsAccepted) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1700000300,"nbf":1700000010})"));  // nbf == now + skew
}

TEST(JwtClaims, IatExactlyAtSkewBoundaryIsAccepted) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1700000300,"iat":1700000010})"));  // iat == now + skew
}

TEST(JwtClaims, LifetimeExactlyAtMaximumIsAccepted) {
  auto e = expect_at();
  e.max_lifetime = 300;
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "iat":1700000000,"exp":1700000300})", e));
}

TEST(JwtClaims, AudiencesOfStringAndArray) {
  EXPECT_EQ(audiences_of(claims(R"({"aud":"a"})")), std::vector<std::string>{"a"});
  EXPECT_EQ(audiences_of(claims(R"({"aud":["a",1,"b",null]})")),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(audiences_of(claims(R"({"aud":7})")).empty());
  EXPECT_TRUE(audiences_of(claims(R"({})")).empty());
}

TEST(JwtClaims, ParseClaimsAcceptsObject) {
  auto c = parse_claims(R"({"sub":"alice"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->at("sub").as_string(), "alice");
}

// ---------------------------------------------------------------- time boundaries

TEST(JwtClaims, ExpOneSecondPastSkewIsExpired) {
  expect_error(check(token_claims(kNow - kSkew - 1)), JoseErrc::Expired);
}

TEST(JwtClaims, ExpLongAgoIsExpired) {
  expect_error(check(token_claims(1300819380)), JoseErrc::Expired);
}

TEST(JwtClaims, ExpWithZeroSkew) {
  auto e = expect_at();
  e.skew_seconds = 0;
  EXPECT_TRUE(check(token_claims(kNow), e));
  expect_error(check(token_claims(kNow - 1), e), JoseErrc::Expired);
}

TEST(JwtClaims, NegativeSkewIsTreatedAsZero) {
  auto e = expect_at();
  e.skew_seconds = -100;
  EXPECT_TRUE(check(token_claims(kNow), e));
  expect_error(check(token_claims(kNow - 1), e), JoseErrc::Expired);
}

TEST(JwtClaims, NbfOneSecondBeyondSkewIsNotYetValid) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1700000300,"nbf":1700000011})"),
               JoseErrc::NotYetValid);
}

TEST(JwtClaims, IatOneSecondBeyondSkewIsIssuedInFuture) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1700000300,"iat":1700000011})"),
               JoseErrc::IssuedInFuture);
}

TEST(JwtClaims, FractionalExpJustPastSkewIsExpired) {
  // exp 1699999989.9 counts as 1699999989: now (1700000000) > 1699999989 + 10.
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":1699999989.9})"),
               JoseErrc::Expired);
}

TEST(JwtClaims, HugeExpDoesNotOverflow) {
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":9223372036854775807})"));
  auto e = expect_at(INT64_MAX);
  e.skew_seconds = INT64_MAX;
  EXPECT_TRUE(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":9223372036854775807})", e));
}

TEST(JwtClaims, NegativeExpIsExpired) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "exp":-9223372036854775808})"),
               JoseErrc::Expired);
}

TEST(JwtClaims, LifetimeOverMaximum) {
  auto e = expect_at();
  e.max_lifetime = 300;
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "iat":1700000000,"exp":1700000301})", e),
               JoseErrc::ClaimInvalid);
}

TEST(JwtClaims, LifetimeOverMaximumWithoutIatCountsFromNow) {
  auto e = expect_at();
  e.max_lifetime = 300;
  expect_error(check(token_claims(kNow + 301), e), JoseErrc::ClaimInvalid);
  EXPECT_TRUE(check(token_claims(kNow + 300), e));
}

TEST(JwtClaims, LifetimeWithHugeExpAndNegativeIat) {
  auto e = expect_at();
  e.max_lifetime = 300;
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example",
      "iat":-9223372036854775807,"exp":9223372036854775807})", e),
               JoseErrc::ClaimInvalid);
}

TEST(JwtClaims, MaxLifetimeNeedsExp) {
  auto e = expect_at();
  e.require_exp = false;
  e.max_lifetime = 300;
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example"})", e),
               JoseErrc::ExpMissing);
}

// ---------------------------------------------------------------- iss / aud

TEST(JwtClaims, MissingExp) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example"})"),
               JoseErrc::ExpMissing);
}

TEST(JwtClaims, MissingIss) {
  expect_error(check(R"({"aud":"https://api.example","exp":1700000300})"),
               JoseErrc::IssuerMismatch);
}

TEST(JwtClaims, WrongIss) {
  expect_error(check(R"({"iss":"https://evil.example","aud":"https://api.example",
      "exp":1700000300})"),
               JoseErrc::IssuerMismatch);
}

TEST(JwtClaims, IssIsComparedExactly) {
  for (const char* iss : {"https://as.example/", "HTTPS://AS.EXAMPLE", "https://as.example ",
                          "https://as.example#", ""}) {
    expect_error(check(std::string(R"({"iss":")") + iss +
                       R"(","aud":"https://api.example","exp":1700000300})"),
                 JoseErrc::IssuerMismatch);
  }
}

TEST(JwtClaims, MissingAud) {
  expect_error(check(R"({"iss":"https://as.example","exp":1700000300})"),
               JoseErrc::AudienceMismatch);
}

TEST(JwtClaims, WrongAudString) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example.evil",
      "exp":1700000300})"),
               JoseErrc::AudienceMismatch);
}

TEST(JwtClaims, WrongAudArray) {
  expect_error(check(R"({"iss":"https://as.example","aud":["https://a","https://b"],
      "exp":1700000300})"),
               JoseErrc::AudienceMismatch);
}

TEST(JwtClaims, EmptyAudArray) {
  expect_error(check(R"({"iss":"https://as.example","aud":[],"exp":1700000300})"),
               JoseErrc::AudienceMismatch);
}

TEST(JwtClaims, AudSubstringDoesNotMatch) {
  expect_error(check(R"({"iss":"https://as.example","aud":"https://api.example/x",
      "exp":1700000300})"),
               JoseErrc::AudienceMismatch);
}

TEST(JwtClaims, CheckOrderIssBeforeAudBeforeExp) {
  expect_error(check(R"({"iss":"x","aud":"y","exp":1})"), JoseErrc::IssuerMismatch);
  expect_error(check(R"({"iss":"https://as.example","aud":"y","exp":1})"),
               JoseErrc::AudienceMismatch);
}

// ---------------------------------------------------------------- JSON types

struct BadType {
  const char* name;
  const char* json;
};

void PrintTo(const BadType& b, std::ostream* os) { *os << b.name; }

class JwtClaimsBadType : public ::testing::TestWithParam<BadType> {};

TEST_P(JwtClaimsBadType, IsClaimInvalid) { expect_error(check(GetParam().json), JoseErrc::ClaimInvalid); }

const BadType kBadTypes[] = {
    {"ExpString", R"({"iss":"https://as.example","aud":"https://api.example","exp":"1700000300"})"},
    {"ExpBool", R"({"iss":"https://as.example","aud":"https://api.example","exp":true})"},
    {"ExpNull", R"({"iss":"https://as.example","aud":"https://api.example","exp":null})"},
    {"ExpArray", R"({"iss":"https://as.example","aud":"https://api.example","exp":[1700000300]})"},
    {"ExpObject", R"({"iss":"https://as.example","aud":"https://api.example","exp":{}})"},
    {"ExpTooLargeUnsigned",
     R"({"iss":"https://as.example","aud":"https://api.example","exp":18446744073709551615})"},
    {"ExpHugeDouble", R"({"iss":"https://as.example","aud":"https://api.example","exp":1e300})"},
    {"NbfString",
     R"({"iss":"https://as.example","aud":"https://api.example","exp":1700000300,"nbf":"0"})"},
    {"IatBool",
     R"({"iss":"https://as.example","aud":"https://api.example","exp":1700000300,"iat":false})"},
    {"IssNumber", R"({"iss":1,"aud":"https://api.example","exp":1700000300})"},
    {"IssArray", R"({"iss":["https://as.example"],"aud":"https://api.example","exp":1700000300})"},
    {"AudNumber", R"({"iss":"https://as.example","aud":1,"exp":1700000300})"},
    {"AudObject", R"({"iss":"https://as.example","aud":{"a":"https://api.example"},"exp":1700000300})"},
    {"AudArrayWithNumber",
     R"({"iss":"https://as.example","aud":["https://api.example",1],"exp":1700000300})"},
    {"AudNestedArray",
     R"({"iss":"https://as.example","aud":[["https://api.example"]],"exp":1700000300})"},
    {"SubNumber",
     R"({"iss":"https://as.example","aud":"https://api.example","exp":1700000300,"sub":42})"},
    {"JtiObject",
     R"({"iss":"https://as.example","aud":"https://api.example","exp":1700000300,"jti":{}})"},
};

INSTANTIATE_TEST_SUITE_P(All, JwtClaimsBadType, ::testing::ValuesIn(kBadTypes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(JwtClaims, WrongTypeEvenWithoutExpectations) {
  ClaimExpectations e;
  e.now = kNow;
  e.require_exp = false;
  expect_error(check(R"({"exp":"soon"})", e), JoseErrc::ClaimInvalid);
  expect_error(check(R"({"aud":false})", e), JoseErrc::ClaimInvalid);
}

}  // namespace
}  // namespace fapigate::jose
