// A throwaway PKI for the tls/ and http/ tests, generated in-process once per test binary and
// written to a temporary directory (STYLE.md §7: no repository certificate can expire).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "crypto/pki.hpp"
#include "crypto/x509.hpp"

namespace fapigate::testing {

struct TestPki {
  std::filesystem::path dir;
  std::string ca_file;
  std::string server_cert, server_key;            // RSA-2048, localhost / 127.0.0.1 / ::1
  std::string client_cert, client_key;            // "partner-client", issued by the CA
  std::string client2_cert, client2_key;          // "other-partner", issued by the CA
  std::string other_ca_file;                      // an unrelated CA
  std::string other_client_cert, other_client_key;  // issued by the unrelated CA
  std::string client_der, client2_der;
  // A directory-style chain: root (pathlen 1) -> issuing CA -> client. chain_client_cert holds
  // the client certificate and the issuing CA, as a TPP sends them.
  std::string chain_root_file;
  std::string chain_client_cert, chain_client_key;
  std::string chain_issuing_der, chain_client_der;
  std::string client_subject_dn;

  static const TestPki& get() {
    static const std::unique_ptr<TestPki> pki = make();
    return *pki;
  }

  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

private:
  static void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out) {
      throw std::runtime_error("cannot write " + p.string());
    }
  }

  template <class R>
  static auto must(R r, const char* what) {
    if (!r) {
      throw std::runtime_error(std::string(what) + ": " + r.error().message());
    }
    return std::move(*r);
  }

  static std::unique_ptr<TestPki> make() {
    auto pki = std::make_unique<TestPki>();
    std::string tmpl = (std::filesystem::temp_directory_path() / "fapigate-net-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    pki->dir = tmpl;
    const auto path = [&](const char* name) { return (pki->dir / name).string(); };

    crypto::CaOptions ca_opts;
    ca_opts.common_name = "fapigate test CA";
    auto ca = must(crypto::issue_ca(ca_opts), "issue_ca");
    crypto::CaOptions other_opts;
    other_opts.common_name = "unrelated CA";
    auto other_ca = must(crypto::issue_ca(other_opts), "issue_ca other");

    crypto::LeafOptions server;
    server.common_name = "localhost";
    server.dns_names = {"localhost"};
    server.ip_addresses = {"127.0.0.1", "::1"};
    server.key_type = crypto::KeyType::Rsa;
    auto server_cert = must(crypto::issue_server_certificate(ca, server), "server cert");

    crypto::LeafOptions client;
    client.common_name = "partner-client";
    client.organizational_unit = "partners";
    auto client_cert = must(crypto::issue_client_certificate(ca, client), "client cert");
    crypto::LeafOptions client2;
    client2.common_name = "other-partner";
    auto client2_cert = must(crypto::issue_client_certificate(ca, client2), "client2 cert");
    crypto::LeafOptions stranger;
    stranger.common_name = "partner-client";
    auto other_client = must(crypto::issue_client_certificate(other_ca, stranger), "other");

    pki->ca_file = path("ca.pem");
    write(pki->ca_file, ca.cert_pem);
    pki->other_ca_file = path("other-ca.pem");
    write(pki->other_ca_file, other_ca.cert_pem);
    pki->server_cert = path("server.pem");
    write(pki->server_cert, server_cert.cert_pem);
    pki->server_key = path("server.key");
    write(pki->server_key, server_cert.key_pem);
    pki->client_cert = path("client.pem");
    write(pki->client_cert, client_cert.cert_pem);
    pki->client_key = path("client.key");
    write(pki->client_key, client_cert.key_pem);
    pki->client2_cert = path("client2.pem");
    write(pki->client2_cert, client2_cert.cert_pem);
    pki->client2_key = path("client2.key");
    write(pki->client2_key, client2_cert.key_pem);
    pki->other_client_cert = path("other-client.pem");
    write(pki->other_client_cert, other_client.cert_pem);
    pki->other_client_key = path("other-client.key");
    write(pki->other_client_key, other_client.key_pem);
    crypto::CaOptions root_opts;
    root_opts.common_name = "directory root";
    root_opts.path_length = 1;
    auto root = must(crypto::issue_ca(root_opts), "issue_ca root");
    crypto::CaOptions issuing_opts;
    issuing_opts.common_name = "directory issuing CA";
    auto issuing = must(crypto::issue_intermediate_ca(root, issuing_opts), "issuing CA");
    crypto::LeafOptions tpp;
    tpp.common_name = "chained-tpp";
    auto tpp_cert = must(crypto::issue_client_certificate(issuing, tpp), "chained client");
    pki->chain_root_file = path("chain-root.pem");
    write(pki->chain_root_file, root.cert_pem);
    pki->chain_client_cert = path("chain-client.pem");
    write(pki->chain_client_cert, tpp_cert.cert_pem + issuing.cert_pem);
    pki->chain_client_key = path("chain-client.key");
    write(pki->chain_client_key, tpp_cert.key_pem);
    pki->chain_issuing_der = issuing.der;
    pki->chain_client_der = tpp_cert.der;
    pki->client_der = client_cert.der;
    pki->client2_der = client2_cert.der;
    pki->client_subject_dn =
        must(crypto::parse_certificate_der(client_cert.der), "parse client").subject_dn;
    return pki;
  }
};

}  // namespace fapigate::testing
