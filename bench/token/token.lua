-- wrk script for bench/token/run: the client_credentials token request of an mTLS client
-- (tls_client_auth, RFC 8705 §2.1), form-encoded POST on a keep-alive connection. The client
-- certificate comes from bench/gateway/wrk_client_cert.c (LD_PRELOAD).
wrk.method = "POST"
wrk.path = "/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "grant_type=client_credentials&client_id=" .. (os.getenv("BENCH_CLIENT_ID") or "partner-client") .. "&scope=accounts"
