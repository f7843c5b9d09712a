/* LD_PRELOAD shim: wrk has no client-certificate option. This wraps SSL_CTX_new so every TLS
 * context wrk creates presents the certificate and key named by WRK_CLIENT_CERT and
 * WRK_CLIENT_KEY (PEM). Benchmark tooling only; never linked into fapigate. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

SSL_CTX* SSL_CTX_new(const SSL_METHOD* method) {
  static SSL_CTX* (*real_new)(const SSL_METHOD*) = NULL;
  if (!real_new) {
    real_new = (SSL_CTX * (*)(const SSL_METHOD*)) dlsym(RTLD_NEXT, "SSL_CTX_new");
  }
  SSL_CTX* ctx = real_new(method);
  const char* cert = getenv("WRK_CLIENT_CERT");
  const char* key = getenv("WRK_CLIENT_KEY");
  if (ctx && cert && key) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
      fprintf(stderr, "wrk_client_cert: cannot load %s / %s\n", cert, key);
      exit(2);
    }
  }
  return ctx;
}
