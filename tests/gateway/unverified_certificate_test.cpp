// The gateway never trusts a client certificate the TLS layer could not chain to its CA
// (PeerCertificate::chain_verified false, as only the AS's required_any listener produces for
// self_signed_tls_client_auth, RFC 8705 §2.2). A token bound to such a certificate is refused
// exactly as if no certificate was presented, and the certificate is not vouched for upstream.
#include "gateway/gateway_fixture.hpp"

#include "gateway/sender_constraint.hpp"
#include "gateway/upstream_proxy.hpp"

namespace fapigate::gw::test {
namespace {

std::shared_ptr<const http::PeerCertificate> unverified(
    const std::shared_ptr<const http::PeerCertificate>& verified) {
  auto copy = std::make_shared<http::PeerCertificate>(*verified);
  copy->chain_verified = false;
  return copy;
}

class GatewayUnverifiedCert : public GatewayTest {
protected:
  void SetUp() override {
    GatewayTest::SetUp();
    start();
  }
};

TEST_F(GatewayUnverifiedCert, BoundTokenWithTheSameCertificateUnverifiedIsRefused) {
  auto req = pay(good_token());
  req.peer_certificate = unverified(cert1_);
  ASSERT_EQ(req.peer_certificate->x5t_s256, cert1_->x5t_s256);  // only the flag differs
  auto r = call(std::move(req));
  expect_refused(r, 401, invalid_token("the access token is bound to a certificate; present it"));
  EXPECT_EQ(error_of(r), "invalid_token");
  EXPECT_EQ(fake_->requests(kUpstream).size(), 0u);
}

TEST_F(GatewayUnverifiedCert, TheSameRequestWithTheVerifiedCertificateIsForwarded) {
  // Control for the test above: the token itself is good.
  auto r = call(pay(good_token()));
  EXPECT_EQ(r.status, 201) << r.body;  // the fixture's upstream creates the payment
  EXPECT_EQ(fake_->requests(kUpstream).size(), 1u);
}

TEST(SenderConstraintUnverified, MatchingThumbprintOnAnUnverifiedCertificateIsMissing) {
  VerifiedToken t;
  t.has_cnf = true;
  t.cnf_x5t_s256 = "tp";
  http::PeerCertificate c;
  c.x5t_s256 = "tp";
  c.chain_verified = false;
  EXPECT_EQ(check_sender_constraint(t, &c, config::SenderConstraint::Mtls),
            GwErrc::CertificateMissing);
  EXPECT_EQ(check_sender_constraint(t, &c, config::SenderConstraint::None),
            GwErrc::CertificateMissing);
  c.chain_verified = true;
  EXPECT_EQ(check_sender_constraint(t, &c, config::SenderConstraint::Mtls), std::nullopt);
}

TEST(SenderConstraintUnverified, HandBuiltViewIsUnverifiedByDefault) {
  http::PeerCertificate c;
  EXPECT_FALSE(c.chain_verified);
}

TEST(UpstreamUnverified, UnverifiedCertificateIsNotForwardedAsClientCert) {
  http::Request r;
  r.method = "GET";
  r.target = "/accounts";
  r.path = "/accounts";
  r.remote_address = "203.0.113.7";
  r.tls = true;
  auto pc = std::make_shared<http::PeerCertificate>();
  pc->der = std::string("\x30\x03\x02\x01\x01", 5);
  r.peer_certificate = pc;
  auto u = make_upstream_request(r, "http://up:1", "gw-id");
  EXPECT_EQ(u.headers.count("Client-Cert"), 0u);
  pc->chain_verified = true;
  u = make_upstream_request(r, "http://up:1", "gw-id");
  EXPECT_EQ(u.headers.count("Client-Cert"), 1u);
}

}  // namespace
}  // namespace fapigate::gw::test
