#include "crypto/digest.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/base64url.hpp"
#include "core/strings.hpp"
#include "crypto/ossl_ptr.hpp"

namespace fapigate::crypto {

namespace {

// Fetched once: EVP_sha256() would make every EVP_Digest call look the implementation up in
// the provider store again. The fetched EVP_MD is immutable and safe to share across threads.
const EVP_MD* sha256_md() {
  static const MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "fapigate: fatal: %s\n", what);
  std::abort();
}

}  // namespace

std::string sha256(std::string_view data) {
  const EVP_MD* md = sha256_md();
  // One context per thread, re-initialised for every digest: EVP_Digest would allocate and
  // free a context each call, and the gateway hashes every bearer token it sees.
  thread_local const MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != 32) {
    // SHA-256 cannot fail on valid input; a failure means the library is unusable.
    fatal("SHA-256 unavailable");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha512(std::string_view data) {
  static const MdPtr md(EVP_MD_fetch(nullptr, "SHA512", nullptr));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md || EVP_Digest(data.data(), data.size(), out, &len, md.get(), nullptr) != 1 ||
      len != 64) {
    fatal("SHA-512 unavailable");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha256_b64url(std::string_view data) { return core::base64url_encode(sha256(data)); }

std::string fingerprint(std::string_view secret) { return core::hex(sha256(secret)).substr(0, 12); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.empty()) {
    return true;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) {
      fatal("RAND_bytes failed: the CSPRNG is unavailable");
    }
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string random_token(std::size_t n) { return core::base64url_encode(random_bytes(n)); }

namespace {

// Identifiers handed out per request (x-fapi-interaction-id, jti) take their bytes from a
// per-thread pool filled from RAND_bytes 4 KiB at a time: still CSPRNG output, without a
// RAND_bytes call per identifier (its DRBG bookkeeping and, in OpenSSL 3.0, a getpid system
// call for the fork check: ~4 us on the project VM, 1.2% of a PS256 token). Pooled bytes are
// for identifiers that must be unique and unguessable but are not secrets (they travel in
// the clear inside tokens and headers); secrets keep calling random_bytes, so no key material
// waits in memory. The process never forks after start, so no two processes share a pool.
void pooled_random(unsigned char* out, std::size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    std::size_t used = sizeof bytes;
  };
  thread_local Pool pool;
  while (n > 0) {
    if (pool.used == sizeof pool.bytes) {
      if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1) {
        fatal("RAND_bytes failed: the CSPRNG is unavailable");
      }
      pool.used = 0;
    }
    std::size_t take = std::min(n, sizeof pool.bytes - pool.used);
    std::memcpy(out, pool.bytes + pool.used, take);
    OPENSSL_cleanse(pool.bytes + pool.used, take);  // handed out once
    pool.used += take;
    out += take;
    n -= take;
  }
}

}  // namespace

std::string unique_id(std::size_t n) {
  std::string raw(n, '\0');
  pooled_random(reinterpret_cast<unsigned char*>(raw.data()), n);
  return core::base64url_encode(raw);
}

std::string uuid_v4() {
  unsigned char b[16];
  pooled_random(b, sizeof b);
  // RFC 9562 §5.4: version 4 in the high nibble of octet 6, variant 10 in octet 8.
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t o = 0;
  for (std::size_t i = 0; i < sizeof b; ++i) {
    if (o == 8 || o == 13 || o == 18 || o == 23) {
      ++o;  // the dashes of 8-4-4-4-12
    }
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0x0f];
  }
  return out;
}

}  // namespace fapigate::crypto
