// crypto/-internal helpers shared by the .cpp files (not for other modules).
#pragma once

#include <string>

#include <openssl/evp.h>

#include "core/result.hpp"

namespace fapigate::crypto::detail {

// RSA 2048..16384 bits, EC P-256 or Ed25519; otherwise KeyTooSmall / UnsupportedKey.
ErrorCode check_key_policy(EVP_PKEY* pkey);
bool is_p256(EVP_PKEY* pkey);
std::string ec_group_name(EVP_PKEY* pkey);

}  // namespace fapigate::crypto::detail
