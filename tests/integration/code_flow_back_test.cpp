// The token endpoint's side of the code flow against a real `fapigate demo`: a code obtained
// through PAR, the login and the consent pages (curl as the partner and as the browser) is
// exchanged over mTLS for a certificate-bound access token; used a second time it is refused
// (400 invalid_grant) and the access token of the first use is revoked (RFC 6749 §4.1.2,
// F1-16); a wrong PKCE verifier is refused too. The finer refusals are unit-tested in
// tests/as/code_flow_test.cpp.
#include <regex>

#include <gtest/gtest.h>

#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "integration/demo_process.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

boost::json::object json_of(const std::string& text) {
  auto o = core::parse_json_object(text, core::JsonLimits{1 << 20, 16});
  return o ? std::move(*o) : boost::json::object{};
}

std::string field(const boost::json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

std::string hidden_value(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

class CodeFlowBack : public ::testing::Test {
protected:
  static void SetUpTestSuite() { demo_ = new DemoProcess(); }
  static void TearDownTestSuite() {
    delete demo_;
    demo_ = nullptr;
  }

  static std::string mtls() {
    return "--cacert " + shell_quote(demo_->str("ca_file")) + " --cert " +
           shell_quote(demo_->partner("partner", "cert_file")) + " --key " +
           shell_quote(demo_->partner("partner", "key_file")) + " ";
  }
  static std::string mtls_url(const std::string& path) {
    return "https://localhost:" + std::to_string(demo_->port_base() + 1) + path;
  }
  static std::string front_url(const std::string& path) { return demo_->str("issuer") + path; }
  static std::string redirect() { return demo_->partner("partner", "redirect_uri"); }

  std::string jar() const { return demo_->dir() + "/cookies-back-" + jar_id_ + ".txt"; }
  HttpResult browser_get(const std::string& url) const {
    return curl("--cacert " + shell_quote(demo_->str("ca_file")) + " -b " + shell_quote(jar()) +
                " -c " + shell_quote(jar()) + " " + shell_quote(url));
  }
  HttpResult browser_post(const std::string& path, const std::string& form) const {
    return curl("--cacert " + shell_quote(demo_->str("ca_file")) + " -b " + shell_quote(jar()) +
                " -c " + shell_quote(jar()) + " -X POST --data " + shell_quote(form) + " " +
                shell_quote(front_url(path)));
  }

  // PAR (mTLS) -> /authorize -> login -> consent -> the code from the redirect.
  std::string obtain_code() {
    auto par = curl(mtls() + "-X POST --data " +
                    shell_quote("client_id=partner-client&response_type=code&scope=payments"
                                "&state=st-1&redirect_uri=" +
                                core::percent_encode(redirect()) + "&code_challenge=" +
                                kChallenge + "&code_challenge_method=S256") +
                    " " + shell_quote(mtls_url("/par")));
    EXPECT_EQ(par.status, 201) << par.body;
    const std::string uri = field(json_of(par.body), "request_uri");
    const std::string authorize =
        front_url("/authorize?client_id=partner-client&request_uri=" + core::percent_encode(uri));
    auto page = browser_get(authorize);
    EXPECT_EQ(page.status, 200) << page.body;
    const auto* user = core::get_object(demo_->demo_json(), "user");
    const auto* form = core::get_object(demo_->demo_json(), "login_form");
    if (!user || !form) {
      ADD_FAILURE() << "demo.json has no user / login_form";
      return {};
    }
    auto login = browser_post(
        "/authorize/login",
        core::form_encode({{"csrf_token", hidden_value(page.body, "csrf_token")},
                           {"client_id", "partner-client"},
                           {"request_uri", uri},
                           {field(*form, "username_field"), field(*user, "username")},
                           {field(*form, "password_field"), field(*user, "password")}}));
    EXPECT_EQ(login.status, 303) << login.body;
    auto consent_page = browser_get(authorize);
    auto consent = browser_post(
        "/authorize/consent",
        core::form_encode({{"csrf_token", hidden_value(consent_page.body, "csrf_token")},
                           {"client_id", "partner-client"},
                           {"request_uri", uri},
                           {"decision", "approve"}}));
    EXPECT_EQ(consent.status, 303) << consent.body;
    const std::string loc = consent.header("Location");
    auto q = core::parse_form(loc.substr(loc.find('?') + 1))
                 .value_or(std::map<std::string, std::string>{});
    return q["code"];
  }

  static HttpResult exchange(const std::string& code, const std::string& verifier = kVerifier) {
    return curl(mtls() + "-X POST --data " +
                shell_quote("grant_type=authorization_code&client_id=partner-client&code=" + code +
                            "&redirect_uri=" + core::percent_encode(redirect()) +
                            "&code_verifier=" + verifier) +
                " " + shell_quote(mtls_url("/token")));
  }

  static bool active(const std::string& token) {
    auto r = curl(mtls() + "--data client_id=partner-client --data-urlencode " +
                  shell_quote("token=" + token) + " " + shell_quote(mtls_url("/introspect")));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.find("\"active\":true") != std::string::npos;
  }

  static inline DemoProcess* demo_ = nullptr;
  std::string jar_id_ = crypto::random_token(6);
};

TEST_F(CodeFlowBack, CodeGivesABoundTokenOnceAndASecondUseRevokesIt) {
  const std::string code = obtain_code();
  ASSERT_FALSE(code.empty());
  auto first = exchange(code);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("Cache-Control"), "no-store");
  const auto body = json_of(first.body);
  EXPECT_EQ(field(body, "token_type"), "Bearer");
  EXPECT_EQ(field(body, "scope"), "payments");
  const std::string at = field(body, "access_token");
  auto parsed = jose::parse_compact(at, jose::kAllAlgs);
  ASSERT_TRUE(parsed);
  auto claims = json_of(parsed->payload);
  const auto* cnf = core::get_object(claims, "cnf");
  ASSERT_NE(cnf, nullptr);
  EXPECT_EQ(field(*cnf, "x5t#S256").size(), 43u);
  EXPECT_TRUE(active(at));

  auto second = exchange(code);
  EXPECT_EQ(second.status, 400) << second.body;
  EXPECT_EQ(field(json_of(second.body), "error"), "invalid_grant");
  EXPECT_FALSE(active(at)) << "the tokens of the first use are revoked";
}

TEST_F(CodeFlowBack, WrongVerifierIsInvalidGrant) {
  const std::string code = obtain_code();
  ASSERT_FALSE(code.empty());
  auto r = exchange(code, std::string(43, 'a'));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(field(json_of(r.body), "error"), "invalid_grant");
}

}  // namespace
}  // namespace fapigate::testing
