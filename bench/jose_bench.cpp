// JOSE hot paths (STYLE.md §7): raw signing (the AS's per-token floor), raw signature verification with a prepared crypto::Verifier,
// whole-JWT verification as the gateway does it (parse + VerifierSet lookup by kid + signature
// + claims), RFC 7638 thumbprints, RFC 8705 x5t#S256 and the kid lookup alone.
// scripts/run-benchmarks compares BM_JwtVerify/PS256 with `openssl speed rsa2048`.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/signature.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace {

using namespace fapigate;
using jose::Alg;

constexpr std::int64_t kNow = 1700000000;

// A realistic access token (RFC 9068 + RFC 8705 cnf).
const std::string kClaims =
    R"({"iss":"https://as.example","sub":"partner-client","aud":"https://api.example",)"
    R"("client_id":"partner-client","scope":"accounts payments","iat":1699999990,)"
    R"("nbf":1699999990,"exp":1700000290,"jti":"9f4c2c7e-2d7b-4a35-9c1e-3f1f6f4b8a11",)"
    R"("cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}})";

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::cerr << "jose_bench: " << what << ": " << r.error().message() << "\n";
    std::abort();
  }
  return std::move(*r);
}

struct Fixture {
  crypto::Key keys[3];  // by Alg
  std::string tokens[3];
  std::string signing_inputs[3];
  std::string signatures[3];
  std::shared_ptr<const crypto::Verifier> verifiers[3];
  jose::Jwks jwks;
  std::unique_ptr<jose::VerifierSet> set;
  std::string cert_der;

  static const Fixture& get() {
    static const Fixture f;
    return f;
  }

private:
  Fixture() {
    const crypto::KeyType types[3] = {crypto::KeyType::Rsa, crypto::KeyType::Ec,
                                      crypto::KeyType::Ed25519};
    // An issuer JWKS of realistic size: the three current keys plus rotated-out ones.
    for (int i = 0; i < 3; ++i) {
      auto old = must(crypto::Key::generate(types[i]), "keygen");
      jwks.keys.push_back(jose::make_jwk(old, "old-" + std::to_string(i), std::nullopt));
    }
    for (int i = 0; i < 3; ++i) {
      Alg alg = static_cast<Alg>(i);
      keys[i] = must(crypto::Key::generate(types[i]), "keygen");
      std::string kid = "key-" + std::string(jose::alg_name(alg));
      jwks.keys.push_back(jose::make_jwk(keys[i], kid, alg));
      tokens[i] = must(jose::sign_compact(kClaims, alg, keys[i], kid, "at+jwt"), "sign");
      auto parsed = must(jose::parse_compact(tokens[i], jose::kAllAlgs), "parse");
      signing_inputs[i] = parsed.signing_input;
      signatures[i] = parsed.signature;
      verifiers[i] = must(crypto::Verifier::create(alg, keys[i].public_only()), "verifier");
    }
    // The gateway builds its set from the public JWKS it fetched.
    jwks = must(jose::parse_jwks(jose::to_json_string(jwks)), "jwks");
    set = std::make_unique<jose::VerifierSet>(jwks);

    crypto::CaOptions ca_opts;
    auto ca = must(crypto::issue_ca(ca_opts), "ca");
    crypto::LeafOptions leaf;
    leaf.common_name = "partner-client";
    cert_der = must(crypto::issue_client_certificate(ca, leaf), "client cert").der;
  }
};

void BM_VerifierRaw(benchmark::State& state) {
  const auto& f = Fixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  const auto& v = *f.verifiers[i];
  for (auto _ : state) {
    bool ok = v.verify(f.signing_inputs[i], f.signatures[i]);
    if (!ok) {
      state.SkipWithError("verify failed");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(jose::alg_name(static_cast<Alg>(i))));
}

// What the gateway does per request: parse, kid lookup, signature, claims.
void BM_JwtVerify(benchmark::State& state) {
  const auto& f = Fixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  jose::ClaimExpectations expect;
  expect.issuer = "https://as.example";
  expect.audiences = {"https://api.example"};
  expect.now = kNow;
  for (auto _ : state) {
    auto jws = jose::verify_compact(f.tokens[i], jose::kAllAlgs, *f.set);
    if (!jws) {
      state.SkipWithError("verify failed");
      break;
    }
    auto claims = jose::parse_claims(jws->payload);
    if (!claims || !jose::check_claims(*claims, expect) || !jose::check_typ(*jws, "at+jwt")) {
      state.SkipWithError("claims failed");
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(jose::alg_name(static_cast<Alg>(i))));
}

// Everything but the signature: the overhead fapigate adds around OpenSSL.
void BM_JwtParseAndClaims(benchmark::State& state) {
  const auto& f = Fixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  jose::ClaimExpectations expect;
  expect.issuer = "https://as.example";
  expect.audiences = {"https://api.example"};
  expect.now = kNow;
  for (auto _ : state) {
    auto jws = jose::parse_compact(f.tokens[i], jose::kAllAlgs);
    auto v = f.set->find(jws->kid, jws->alg);
    auto claims = jose::parse_claims(jws->payload);
    bool ok = v && claims && jose::check_claims(*claims, expect);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(jose::alg_name(static_cast<Alg>(i))));
}

// What the authorization server pays per token for the signature: a prepared Signer (the
// template context built once) over a realistic access-token signing input. Compared with
// `openssl speed rsa2048` / `ecdsap256` sign/s, the token endpoint's physical floor.
void BM_SignerRaw(benchmark::State& state) {
  const auto& f = Fixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  auto signer = must(crypto::Signer::create(static_cast<Alg>(i), f.keys[i]), "signer");
  for (auto _ : state) {
    auto sig = signer->sign(f.signing_inputs[i]);
    if (!sig) {
      state.SkipWithError("sign failed");
      break;
    }
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(jose::alg_name(static_cast<Alg>(i))));
}

void BM_KidLookup(benchmark::State& state) {
  const auto& f = Fixture::get();
  for (auto _ : state) {
    auto v = f.set->find("key-EdDSA", Alg::EdDSA);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Thumbprint(benchmark::State& state) {
  const auto& f = Fixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  jose::Jwk jwk = jose::make_jwk(f.keys[i].public_only(), "", std::nullopt);
  for (auto _ : state) {
    auto t = jose::thumbprint(jwk);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(jose::alg_name(static_cast<Alg>(i))));
}

void BM_X5tS256(benchmark::State& state) {
  const auto& f = Fixture::get();
  for (auto _ : state) {
    auto t = crypto::x5t_s256(f.cert_der);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.cert_der.size()));
}

// Arguments are Alg values: 0 PS256, 1 ES256, 2 EdDSA.
BENCHMARK(BM_VerifierRaw)->DenseRange(0, 2);
BENCHMARK(BM_JwtVerify)->DenseRange(0, 2);
BENCHMARK(BM_JwtParseAndClaims)->DenseRange(0, 2);
BENCHMARK(BM_SignerRaw)->DenseRange(0, 2);
BENCHMARK(BM_KidLookup);
BENCHMARK(BM_Thumbprint)->DenseRange(0, 2);
BENCHMARK(BM_X5tS256);

}  // namespace

BENCHMARK_MAIN();
