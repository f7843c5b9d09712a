// Storage interfaces for the authorization server. Implementations: sqlite/ (embedded default).
// Tokens are stored by hash (SHA-256 base64url), never in clear. Every call is synchronous and
// thread-safe; a failure is an error value, never an exception.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace fapigate::store {

enum class StoreErrc {
  Unavailable = 1,  // the database cannot be opened or is read-only / full
  Conflict,         // a unique key already exists
  Corrupt,          // a row could not be decoded
  Internal,
};
ErrorCode make_error_code(StoreErrc e);

struct ClientRecord {
  std::string client_id;
  std::string token_endpoint_auth_method;  // tls_client_auth, self_signed_tls_client_auth, private_key_jwt
  std::string tls_client_auth_subject_dn;
  std::string tls_client_auth_san_dns;
  std::string tls_client_auth_san_uri;
  std::string tls_client_auth_san_ip;
  std::string tls_client_auth_san_email;
  std::vector<std::string> grant_types;
  std::vector<std::string> scopes;
  std::vector<std::string> redirect_uris;
  std::string jwks_json;                   // registered public keys, may be empty
  std::string metadata_json;               // the rest of the RFC 7591 metadata, as registered
  std::int64_t created_at = 0;
};

struct SigningKeyRecord {
  std::string kid;
  std::string alg;            // PS256, ES256, EdDSA
  std::string private_pem;    // PKCS#8 PEM, or sealed under the key-encryption key ("fgk1:...")
  std::int64_t created_at = 0;
  std::int64_t not_before = 0;     // first use for signing
  std::int64_t retire_after = 0;   // 0: current; else stays in JWKS until then
};

struct TokenRecord {
  std::string token_hash;     // base64url(SHA-256(token)); the primary key
  std::string kind;           // access_token, refresh_token, authorization_code
  std::string jti;
  std::string client_id;
  std::string subject;
  std::string scope;
  std::string audience;
  std::string cnf_x5t_s256;   // the bound certificate's thumbprint, may be empty
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  bool revoked = false;
  std::string grant_id;       // links tokens of one grant (revoked together)
};

class ClientStore {
public:
  virtual ~ClientStore() = default;
  [[nodiscard]] virtual Result<std::optional<ClientRecord>> find_client(const std::string& id) = 0;
  // Insert or replace.
  [[nodiscard]] virtual Result<void> put_client(const ClientRecord& client) = 0;
  [[nodiscard]] virtual Result<void> delete_client(const std::string& id) = 0;
  [[nodiscard]] virtual Result<std::vector<ClientRecord>> list_clients() = 0;
};

class KeyStore {
public:
  virtual ~KeyStore() = default;
  [[nodiscard]] virtual Result<std::vector<SigningKeyRecord>> list_signing_keys() = 0;
  [[nodiscard]] virtual Result<void> put_signing_key(const SigningKeyRecord& key) = 0;
  // Rewrites a key's stored private material (encryption at rest of a key written in clear),
  // only while the row still holds `expected`: a compare-and-swap, so two processes migrating
  // at once cannot overwrite each other. False when the row is gone or holds something else.
  [[nodiscard]] virtual Result<bool> replace_signing_key_material(
      const std::string& kid, const std::string& expected, const std::string& replacement) = 0;
};

class TokenStore {
public:
  virtual ~TokenStore() = default;
  // Durable before it returns (the client must never hold a token the store forgot).
  [[nodiscard]] virtual Result<void> put_token(const TokenRecord& token) = 0;
  // The same without blocking the caller: `done` is called exactly once, possibly on another
  // thread, when the row is durable (or failed). Hand the token to the client only from `done`.
  // `done` must be quick and must not wait on the store. The default runs put_token inline.
  virtual void put_token_async(const TokenRecord& token,
                               std::function<void(Result<void>)> done) {
    done(put_token(token));
  }
  [[nodiscard]] virtual Result<std::optional<TokenRecord>> find_token(const std::string& hash) = 0;
  [[nodiscard]] virtual Result<void> revoke_token(const std::string& hash) = 0;
  // Revokes every token of the grant and remembers the grant as revoked (grant_revoked());
  // an empty grant_id (a token of no grant) matches nothing.
  [[nodiscard]] virtual Result<void> revoke_grant(const std::string& grant_id) = 0;
  // Revokes the token if it is still active; true for exactly one of several concurrent
  // callers (the one that spent it), false if it was revoked already or is unknown.
  [[nodiscard]] virtual Result<bool> revoke_token_if_active(const std::string& hash) = 0;
  // Whether revoke_grant() was called for this grant. Issuers re-check it after writing a
  // grant's tokens, so a revocation racing the issuance cannot leave them live.
  [[nodiscard]] virtual Result<bool> grant_revoked(const std::string& grant_id) = 0;
  // Removes rows expired before `before`; returns how many.
  [[nodiscard]] virtual Result<std::size_t> purge_expired(std::int64_t before) = 0;
  // Forgets revoked-grant marks (grant_revoked()) made before `revoked_before`; returns how
  // many. Only safe once no token of such a grant can still be issued or used.
  [[nodiscard]] virtual Result<std::size_t> purge_revoked_grants(std::int64_t revoked_before) = 0;
};

// One-time identifiers: a client assertion's jti (RFC 7523 §3 item 7), later DPoP proof jtis.
// Remembered durably until they expire, so a replay is refused across a restart too. Keys are
// opaque to the store; callers pass a namespaced hash (no secret or token in clear).
class ReplayStore {
public:
  virtual ~ReplayStore() = default;
  // True when `key` is seen for the first time (or its earlier entry expired before `now`): it
  // is then remembered until `expires_at`, durably before this returns. False for a replay.
  // Atomic: of concurrent calls with one key, exactly one gets true.
  [[nodiscard]] virtual Result<bool> remember_once(const std::string& key,
                                                   std::int64_t expires_at,
                                                   std::int64_t now) = 0;
  // Forgets entries that expired before `before`; returns how many.
  [[nodiscard]] virtual Result<std::size_t> purge_replay(std::int64_t before) = 0;
};

// An authorization code (RFC 6749 §4.1.2), stored by the SHA-256 of the code, never in clear.
// Written by the authorization endpoint once the user has consented; redeemed once at the token
// endpoint, which needs everything here to check the redemption and to issue the tokens.
struct AuthorizationCodeRecord {
  std::string code_hash;        // base64url(SHA-256(code)); the primary key
  std::string client_id;
  std::string subject;          // the user who authenticated
  std::string scope;            // space-joined, as consented
  std::string redirect_uri;     // the exact value of the authorization request
  std::string code_challenge;   // PKCE S256 challenge (RFC 7636 §4.2); the only method allowed
  std::string nonce;            // OIDC nonce, may be empty
  std::string acr;              // the authentication context achieved, may be empty
  std::int64_t auth_time = 0;   // when the user authenticated (OIDC Core §2)
  std::string cnf_x5t_s256;     // certificate the client presented with the request (PAR over
                                // mTLS); empty when the request came through the browser only
  std::string claims_json;      // OIDC claims request (Core §5.5), may be empty
  std::string resource;         // requested audience (RFC 8707), may be empty: the default
  std::string grant_id;         // links every token issued from this code
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;  // at most 60 s after issued_at (FAPI 2.0 SP §5.3.2.1-11)
};

struct RedeemedCode {
  AuthorizationCodeRecord code;
  bool first_use = false;  // false: it was redeemed before; the caller revokes code.grant_id
};

class CodeStore {
public:
  virtual ~CodeStore() = default;
  // Durable before it returns. Conflict when the hash exists.
  [[nodiscard]] virtual Result<void> put_code(const AuthorizationCodeRecord& code) = 0;
  // Marks the code used, atomically: of concurrent redemptions exactly one sees first_use.
  // nullopt when no such code is stored. Expiry is the caller's check (it holds the clock).
  [[nodiscard]] virtual Result<std::optional<RedeemedCode>> redeem_code(
      const std::string& code_hash) = 0;
};

// A pushed authorization request (RFC 9126), stored by the SHA-256 of its request_uri. The
// parameters were validated when pushed; the record is consumed once, when the user completes
// the authorization (not when the page loads: FAPI 2.0 SP §5.3.2.2 note 3).
struct PushedRequestRecord {
  std::string request_uri_hash;  // base64url(SHA-256(request_uri)); the primary key
  std::string client_id;
  std::string params_json;       // the validated authorization request, a JSON object
  std::string cnf_x5t_s256;      // certificate presented at PAR, may be empty
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  bool used = false;
};

class PushedRequestStore {
public:
  virtual ~PushedRequestStore() = default;
  // Durable before it returns. Conflict when the hash exists.
  [[nodiscard]] virtual Result<void> put_pushed_request(const PushedRequestRecord& r) = 0;
  [[nodiscard]] virtual Result<std::optional<PushedRequestRecord>> find_pushed_request(
      const std::string& request_uri_hash) = 0;
  // Marks it used, atomically: true for exactly one caller, and only while it is unused and
  // not expired at `now`.
  [[nodiscard]] virtual Result<bool> consume_pushed_request(const std::string& request_uri_hash,
                                                            std::int64_t now) = 0;
};

// An end user who logs in at the authorization endpoint. The password hash is the encoded
// scrypt string (as/password.hpp), never the password.
struct UserRecord {
  std::string username;
  std::string password_hash;
  std::int64_t created_at = 0;
};

class UserStore {
public:
  virtual ~UserStore() = default;
  [[nodiscard]] virtual Result<std::optional<UserRecord>> find_user(const std::string& username) = 0;
  // Insert or replace (the password hash changes).
  [[nodiscard]] virtual Result<void> put_user(const UserRecord& user) = 0;
  // Failed-login counting for throttling, per key ("user:<name>", "addr:<ip>"): failures
  // counted in a window that starts at the first failure and lasts window_seconds.
  // note_login_failure returns the count including this one.
  [[nodiscard]] virtual Result<std::int64_t> note_login_failure(const std::string& key,
                                                                std::int64_t now,
                                                                std::int64_t window_seconds) = 0;
  [[nodiscard]] virtual Result<std::int64_t> login_failures(const std::string& key,
                                                            std::int64_t now,
                                                            std::int64_t window_seconds) = 0;
  [[nodiscard]] virtual Result<void> clear_login_failures(const std::string& key) = 0;
};

// A user's consent to a client for some scopes: one record per approval, linked to the grant
// its tokens carry, so withdrawing it revokes exactly those tokens.
struct ConsentRecord {
  std::string consent_id;  // random, the primary key
  std::string subject;
  std::string client_id;
  std::string scope;       // space-joined
  std::string grant_id;
  std::int64_t granted_at = 0;
  bool withdrawn = false;
  std::int64_t withdrawn_at = 0;
};

class ConsentStore {
public:
  virtual ~ConsentStore() = default;
  [[nodiscard]] virtual Result<void> put_consent(const ConsentRecord& consent) = 0;
  // The user's consents, newest first, withdrawn ones included.
  [[nodiscard]] virtual Result<std::vector<ConsentRecord>> list_consents(
      const std::string& subject) = 0;
  // Marks the consent withdrawn when it belongs to `subject` and is still active; returns it
  // (nullopt when there is no such active consent of that user).
  [[nodiscard]] virtual Result<std::optional<ConsentRecord>> withdraw_consent(
      const std::string& consent_id, const std::string& subject, std::int64_t now) = 0;
};

// A logged-in browser session, stored by the SHA-256 of the cookie value.
struct BrowserSessionRecord {
  std::string session_hash;  // base64url(SHA-256(cookie value)); the primary key
  std::string subject;
  std::int64_t auth_time = 0;
  std::int64_t expires_at = 0;
};

class SessionStore {
public:
  virtual ~SessionStore() = default;
  [[nodiscard]] virtual Result<void> put_session(const BrowserSessionRecord& session) = 0;
  // nullopt when unknown or expired at `now`.
  [[nodiscard]] virtual Result<std::optional<BrowserSessionRecord>> find_session(
      const std::string& session_hash, std::int64_t now) = 0;
  [[nodiscard]] virtual Result<void> delete_session(const std::string& session_hash) = 0;
};

// What the refresh_token grant needs to know about the authorization it continues and that no
// token row carries: who authenticated, when and how (OIDC Core §12.2: an ID token from a
// refresh keeps sub, auth_time and acr of the original authentication), and the scope the user
// consented to (RFC 6749 §6: a refresh may narrow it, never widen it). One row per grant_id,
// written when the authorization code is redeemed.
struct GrantRecord {
  std::string grant_id;         // the primary key; TokenRecord::grant_id of its tokens
  std::string client_id;
  std::string subject;
  std::string scope;            // space-joined, as consented
  std::string acr;              // may be empty
  std::int64_t auth_time = 0;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  // no token of the grant outlives this
};

class GrantStore {
public:
  virtual ~GrantStore() = default;
  // Insert or replace (a grant's window is extended when a rotated refresh token outlives it).
  [[nodiscard]] virtual Result<void> put_grant(const GrantRecord& grant) = 0;
  [[nodiscard]] virtual Result<std::optional<GrantRecord>> find_grant(
      const std::string& grant_id) = 0;
};

// One database behind all of them (the SQLite file, later PostgreSQL).
class Store : public ClientStore,
              public KeyStore,
              public TokenStore,
              public ReplayStore,
              public CodeStore,
              public PushedRequestStore,
              public UserStore,
              public ConsentStore,
              public SessionStore,
              public GrantStore {};

}  // namespace fapigate::store

template <>
struct boost::system::is_error_code_enum<fapigate::store::StoreErrc> : std::true_type {};
