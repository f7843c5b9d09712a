#include "crypto/digest.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

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
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1 ||
      len != 32) {
    // SHA-256 cannot fail on valid input; a failure means the library is unusable.
    fatal("SHA-256 unavailable");
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

std::string uuid_v4() {
  std::string b = random_bytes(16);
  // RFC 9562 §5.4: version 4 in the high nibble of octet 6, variant 10 in octet 8.
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);
  std::string h = core::hex(b);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20, 12);
}

}  // namespace fapigate::crypto
