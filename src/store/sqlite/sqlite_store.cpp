// SQLite implementation of Store. One connection, guarded by a mutex: the AS writes little
// (a few rows per token request) and every commit waits for fsync anyway, so a pool would buy
// almost nothing. Statements are prepared once and reset after each use.
#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <exception>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "store/sqlite/group_commit.hpp"

namespace fapigate::store {
namespace {

namespace log = core::log;

constexpr int kSchemaVersion = 7;

// Each entry migrates from version i to i + 1 and runs inside one transaction.
constexpr std::string_view kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE clients (
  client_id                  TEXT PRIMARY KEY NOT NULL,
  token_endpoint_auth_method TEXT NOT NULL,
  tls_client_auth_subject_dn TEXT NOT NULL DEFAULT '',
  tls_client_auth_san_dns    TEXT NOT NULL DEFAULT '',
  tls_client_auth_san_uri    TEXT NOT NULL DEFAULT '',
  tls_client_auth_san_ip     TEXT NOT NULL DEFAULT '',
  tls_client_auth_san_email  TEXT NOT NULL DEFAULT '',
  grant_types                TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  scopes                     TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  redirect_uris              TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  jwks_json                  TEXT NOT NULL DEFAULT '',
  metadata_json              TEXT NOT NULL DEFAULT '',
  created_at                 INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE signing_keys (
  kid          TEXT PRIMARY KEY NOT NULL,
  alg          TEXT NOT NULL,
  private_pem  TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  not_before   INTEGER NOT NULL,
  retire_after INTEGER NOT NULL
);
CREATE TABLE tokens (
  token_hash   TEXT PRIMARY KEY NOT NULL,
  kind         TEXT NOT NULL,
  jti          TEXT NOT NULL DEFAULT '',
  client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  subject      TEXT NOT NULL DEFAULT '',
  scope        TEXT NOT NULL DEFAULT '',
  audience     TEXT NOT NULL DEFAULT '',
  cnf_x5t_s256 TEXT NOT NULL DEFAULT '',
  issued_at    INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  grant_id     TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX tokens_grant_id ON tokens (grant_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_client_id ON tokens (client_id);
)sql",
    // 1 -> 2: one-time identifiers (client assertion jti), kept until they expire.
    R"sql(
CREATE TABLE replay_cache (
  key        TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX replay_cache_expires_at ON replay_cache (expires_at);
)sql",
    // 2 -> 3: authorization codes and grants (the code flow's back channel).
    R"sql(
CREATE TABLE authorization_codes (
  code_hash      TEXT PRIMARY KEY NOT NULL,
  client_id      TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  subject        TEXT NOT NULL,
  scope          TEXT NOT NULL DEFAULT '',
  redirect_uri   TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce          TEXT NOT NULL DEFAULT '',
  acr            TEXT NOT NULL DEFAULT '',
  auth_time      INTEGER NOT NULL DEFAULT 0,
  cnf_x5t_s256   TEXT NOT NULL DEFAULT '',
  claims_json    TEXT NOT NULL DEFAULT '',
  resource       TEXT NOT NULL DEFAULT '',
  grant_id       TEXT NOT NULL,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used           INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
)sql",
    // 3 -> 4: the front channel: pushed authorization requests, users, consents, sessions.
    R"sql(
CREATE TABLE pushed_requests (
  request_uri_hash TEXT PRIMARY KEY NOT NULL,
  client_id        TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  params_json      TEXT NOT NULL,
  cnf_x5t_s256     TEXT NOT NULL DEFAULT '',
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  used             INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);
CREATE TABLE users (
  username      TEXT PRIMARY KEY NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE login_failures (
  key          TEXT PRIMARY KEY NOT NULL,
  failures     INTEGER NOT NULL,
  window_start INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE consents (
  consent_id   TEXT PRIMARY KEY NOT NULL,
  subject      TEXT NOT NULL,
  client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope        TEXT NOT NULL DEFAULT '',
  grant_id     TEXT NOT NULL,
  granted_at   INTEGER NOT NULL,
  withdrawn    INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
  withdrawn_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX consents_subject ON consents (subject, granted_at);
CREATE TABLE browser_sessions (
  session_hash TEXT PRIMARY KEY NOT NULL,
  subject      TEXT NOT NULL,
  auth_time    INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);
)sql",
    // 4 -> 5: grants (what a refresh needs from the original authorization).
    R"sql(
CREATE TABLE grants (
  grant_id   TEXT PRIMARY KEY NOT NULL,
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  subject    TEXT NOT NULL,
  scope      TEXT NOT NULL DEFAULT '',
  acr        TEXT NOT NULL DEFAULT '',
  auth_time  INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX grants_expires_at ON grants (expires_at);
)sql",
    // 5 -> 6: only tokens of a grant (code flow, refresh, registration) are indexed by grant.
    // client_credentials tokens have none; a random id per token made every insert dirty a
    // random index page, one more WAL page per token written and fsynced.
    R"sql(
DROP INDEX tokens_grant_id;
CREATE INDEX tokens_grant_id ON tokens (grant_id) WHERE grant_id <> '';
)sql",
    // 6 -> 7: revoked grants are remembered, so tokens written for a grant after its revocation
    // (a code reuse or a refresh racing the issuance) are caught by the issuer's re-check.
    R"sql(
CREATE TABLE revoked_grants (
  grant_id   TEXT PRIMARY KEY NOT NULL,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Statements, cached by address.
constexpr const char* kClientColumns =
    "client_id, token_endpoint_auth_method, tls_client_auth_subject_dn, "
    "tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, "
    "tls_client_auth_san_email, grant_types, scopes, redirect_uris, jwks_json, metadata_json, "
    "created_at";
const std::string kFindClient =
    std::string("SELECT ") + kClientColumns + " FROM clients WHERE client_id = ?1";
const std::string kListClients =
    std::string("SELECT ") + kClientColumns + " FROM clients ORDER BY client_id";
const std::string kPutClient = std::string("INSERT INTO clients (") + kClientColumns + R"sql()
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (client_id) DO UPDATE SET
  token_endpoint_auth_method = excluded.token_endpoint_auth_method,
  tls_client_auth_subject_dn = excluded.tls_client_auth_subject_dn,
  tls_client_auth_san_dns = excluded.tls_client_auth_san_dns,
  tls_client_auth_san_uri = excluded.tls_client_auth_san_uri,
  tls_client_auth_san_ip = excluded.tls_client_auth_san_ip,
  tls_client_auth_san_email = excluded.tls_client_auth_san_email,
  grant_types = excluded.grant_types,
  scopes = excluded.scopes,
  redirect_uris = excluded.redirect_uris,
  jwks_json = excluded.jwks_json,
  metadata_json = excluded.metadata_json,
  created_at = excluded.created_at)sql";
// An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, which would cascade to
// the client's tokens.
constexpr const char* kDeleteClient = "DELETE FROM clients WHERE client_id = ?1";

constexpr const char* kListKeys =
    "SELECT kid, alg, private_pem, created_at, not_before, retire_after FROM signing_keys "
    "ORDER BY created_at, kid";
// Re-putting a kid may move its validity window (rotation), never swap its key material.
constexpr const char* kPutKey = R"sql(
INSERT INTO signing_keys (kid, alg, private_pem, created_at, not_before, retire_after)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (kid) DO UPDATE SET
  not_before = excluded.not_before,
  retire_after = excluded.retire_after
WHERE signing_keys.alg = excluded.alg AND signing_keys.private_pem = excluded.private_pem)sql";
constexpr const char* kReplaceKeyMaterial =
    "UPDATE signing_keys SET private_pem = ?3 WHERE kid = ?1 AND private_pem = ?2";

constexpr const char* kTokenColumns =
    "token_hash, kind, jti, client_id, subject, scope, audience, cnf_x5t_s256, issued_at, "
    "expires_at, revoked, grant_id";
const std::string kPutToken = std::string("INSERT INTO tokens (") + kTokenColumns +
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
const std::string kFindToken =
    std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE token_hash = ?1";
constexpr const char* kRevokeToken = "UPDATE tokens SET revoked = 1 WHERE token_hash = ?1";
constexpr const char* kRevokeActiveToken =
    "UPDATE tokens SET revoked = 1 WHERE token_hash = ?1 AND revoked = 0";
constexpr const char* kRememberRevokedGrant =
    "INSERT INTO revoked_grants (grant_id, revoked_at) VALUES (?1, CAST(strftime('%s', 'now') AS "
    "INTEGER)) ON CONFLICT (grant_id) DO NOTHING";
constexpr const char* kGrantRevoked = "SELECT 1 FROM revoked_grants WHERE grant_id = ?1";
constexpr const char* kRevokeGrant =
    "UPDATE tokens SET revoked = 1 WHERE grant_id = ?1 AND grant_id <> '' AND revoked = 0";
constexpr const char* kPurgeExpired = "DELETE FROM tokens WHERE expires_at < ?1";
constexpr const char* kPurgeRevokedGrants = "DELETE FROM revoked_grants WHERE revoked_at < ?1";

constexpr const char* kCodeColumns =
    "code_hash, client_id, subject, scope, redirect_uri, code_challenge, nonce, acr, auth_time, "
    "cnf_x5t_s256, claims_json, resource, grant_id, issued_at, expires_at";
const std::string kPutCode =
    std::string("INSERT INTO authorization_codes (") + kCodeColumns +
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
// The conditional UPDATE decides first use on its own (one statement is atomic, also across
// processes sharing the file): changes() == 1 for exactly one redeemer. `used` only ever goes
// from 0 to 1 and nothing else in the row changes, so the read that follows is consistent.
constexpr const char* kMarkCodeUsed =
    "UPDATE authorization_codes SET used = 1 WHERE code_hash = ?1 AND used = 0";
const std::string kFindCode = std::string("SELECT ") + kCodeColumns +
                              " FROM authorization_codes WHERE code_hash = ?1";
constexpr const char* kPurgeExpiredCodes = "DELETE FROM authorization_codes WHERE expires_at < ?1";

constexpr const char* kPutGrant = R"sql(
INSERT INTO grants (grant_id, client_id, subject, scope, acr, auth_time, created_at, expires_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (grant_id) DO UPDATE SET expires_at = excluded.expires_at
WHERE grants.client_id = excluded.client_id)sql";
constexpr const char* kFindGrant =
    "SELECT grant_id, client_id, subject, scope, acr, auth_time, created_at, expires_at "
    "FROM grants WHERE grant_id = ?1";

// The front channel (migration 3 -> 4).
constexpr const char* kPutPushed =
    "INSERT INTO pushed_requests (request_uri_hash, client_id, params_json, cnf_x5t_s256, "
    "created_at, expires_at, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kFindPushed =
    "SELECT request_uri_hash, client_id, params_json, cnf_x5t_s256, created_at, expires_at, used "
    "FROM pushed_requests WHERE request_uri_hash = ?1";
// One conditional UPDATE: of concurrent completions exactly one sees changes() == 1.
constexpr const char* kConsumePushed =
    "UPDATE pushed_requests SET used = 1 WHERE request_uri_hash = ?1 AND used = 0 "
    "AND expires_at >= ?2";
constexpr const char* kPurgePushed = "DELETE FROM pushed_requests WHERE expires_at < ?1";
constexpr const char* kFindUser =
    "SELECT username, password_hash, created_at FROM users WHERE username = ?1";
constexpr const char* kPutUser = R"sql(
INSERT INTO users (username, password_hash, created_at) VALUES (?1, ?2, ?3)
ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash)sql";
// A window older than ?3 seconds starts over at this failure.
constexpr const char* kNoteFailure = R"sql(
INSERT INTO login_failures (key, failures, window_start) VALUES (?1, 1, ?2)
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN 1
                  ELSE login_failures.failures + 1 END,
  window_start = CASE WHEN login_failures.window_start + ?3 <= ?2 THEN ?2
                      ELSE login_failures.window_start END
RETURNING failures)sql";
constexpr const char* kLoginFailures =
    "SELECT failures FROM login_failures WHERE key = ?1 AND window_start + ?3 > ?2";
constexpr const char* kClearFailures = "DELETE FROM login_failures WHERE key = ?1";
constexpr const char* kConsentColumns =
    "consent_id, subject, client_id, scope, grant_id, granted_at, withdrawn, withdrawn_at";
const std::string kPutConsent = std::string("INSERT INTO consents (") + kConsentColumns +
                                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const std::string kListConsents = std::string("SELECT ") + kConsentColumns +
                                  " FROM consents WHERE subject = ?1 "
                                  "ORDER BY granted_at DESC, consent_id LIMIT 500";
constexpr const char* kWithdrawConsent =
    "UPDATE consents SET withdrawn = 1, withdrawn_at = ?3 "
    "WHERE consent_id = ?1 AND subject = ?2 AND withdrawn = 0";
const std::string kFindConsent =
    std::string("SELECT ") + kConsentColumns + " FROM consents WHERE consent_id = ?1";
constexpr const char* kPutSession =
    "INSERT INTO browser_sessions (session_hash, subject, auth_time, expires_at) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kFindSession =
    "SELECT session_hash, subject, auth_time, expires_at FROM browser_sessions "
    "WHERE session_hash = ?1 AND expires_at >= ?2";
constexpr const char* kDeleteSession = "DELETE FROM browser_sessions WHERE session_hash = ?1";
constexpr const char* kPurgeSessions = "DELETE FROM browser_sessions WHERE expires_at < ?1";

// One statement, so first-seen is decided atomically: a new key inserts; an existing key is
// only taken over when its entry had already expired (not yet purged). changes() tells which.
constexpr const char* kRememberOnce = R"sql(
INSERT INTO replay_cache (key, expires_at) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
WHERE replay_cache.expires_at < ?3)sql";
constexpr const char* kPurgeReplay = "DELETE FROM replay_cache WHERE expires_at < ?1";
// remember_once purges expired entries itself every this many calls, so the table stays
// bounded by the entries still live even if no one calls purge_replay.
constexpr unsigned kReplayPurgeEvery = 256;

StoreErrc map_rc(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return StoreErrc::Conflict;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return StoreErrc::Corrupt;
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
      return StoreErrc::Unavailable;
    default:
      return StoreErrc::Internal;
  }
}

std::string encode_list(const std::vector<std::string>& items) {
  boost::json::array a;
  a.reserve(items.size());
  for (const auto& s : items) {
    a.emplace_back(s);
  }
  return boost::json::serialize(a);
}

bool decode_list(std::string_view text, std::vector<std::string>& out) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) {
    return false;
  }
  out.clear();
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) {
      return false;
    }
    out.emplace_back(item.get_string());
  }
  return true;
}

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  if (!p) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

// Resets and unbinds a cached statement when the operation is done with it, so that the next
// user starts clean and no read transaction stays open.
class StmtUse {
public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

private:
  sqlite3_stmt* s_;
};

class SqliteStore final : public Store {
public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  ~SqliteStore() override {
    writer_.reset();  // first: commits what is still queued
    for (auto& [sql, stmt] : cache_) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
  }

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // --- ClientStore --------------------------------------------------------------------------

  Result<std::optional<ClientRecord>> find_client(const std::string& id) override {
    return guarded<std::optional<ClientRecord>>(
        "find_client", [&]() -> Result<std::optional<ClientRecord>> {
          auto s = prepare(kFindClient.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, id); rc != SQLITE_OK) {
            return fail(rc, "find_client");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<ClientRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_client");
          }
          auto c = read_client(*s);
          if (!c) {
            return c.error();
          }
          return std::optional<ClientRecord>(std::move(*c));
        });
  }

  Result<void> put_client(const ClientRecord& c) override {
    return guarded<void>("put_client", [&]() -> Result<void> {
      auto s = prepare(kPutClient.c_str());
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      // The encoded lists must outlive the step: bindings are SQLITE_STATIC.
      const std::string grant_types = encode_list(c.grant_types);
      const std::string scopes = encode_list(c.scopes);
      const std::string redirect_uris = encode_list(c.redirect_uris);
      int rc = SQLITE_OK;
      int i = 0;
      for (const std::string* v :
           {&c.client_id, &c.token_endpoint_auth_method, &c.tls_client_auth_subject_dn,
            &c.tls_client_auth_san_dns, &c.tls_client_auth_san_uri, &c.tls_client_auth_san_ip,
            &c.tls_client_auth_san_email, &grant_types, &scopes, &redirect_uris, &c.jwks_json,
            &c.metadata_json}) {
        if (rc == SQLITE_OK) {
          rc = bind_text(*s, ++i, *v);
        }
      }
      if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(*s, 13, c.created_at);
      }
      if (rc != SQLITE_OK) {
        return fail(rc, "put_client");
      }
      return step_done(*s, "put_client");
    });
  }

  Result<void> delete_client(const std::string& id) override {
    return guarded<void>("delete_client", [&]() -> Result<void> {
      auto s = prepare(kDeleteClient);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      if (int rc = bind_text(*s, 1, id); rc != SQLITE_OK) {
        return fail(rc, "delete_client");
      }
      return step_done(*s, "delete_client");
    });
  }

  Result<std::vector<ClientRecord>> list_clients() override {
    return guarded<std::vector<ClientRecord>>(
        "list_clients", [&]() -> Result<std::vector<ClientRecord>> {
          auto s = prepare(kListClients.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          std::vector<ClientRecord> out;
          for (;;) {
            int rc = sqlite3_step(*s);
            if (rc == SQLITE_DONE) {
              return out;
            }
            if (rc != SQLITE_ROW) {
              return fail(rc, "list_clients");
            }
            auto c = read_client(*s);
            if (!c) {
              return c.error();
            }
            out.push_back(std::move(*c));
          }
        });
  }

  // --- KeyStore -----------------------------------------------------------------------------

  Result<std::vector<SigningKeyRecord>> list_signing_keys() override {
    return guarded<std::vector<SigningKeyRecord>>(
        "list_signing_keys", [&]() -> Result<std::vector<SigningKeyRecord>> {
          auto s = prepare(kListKeys);
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          std::vector<SigningKeyRecord> out;
          for (;;) {
            int rc = sqlite3_step(*s);
            if (rc == SQLITE_DONE) {
              return out;
            }
            if (rc != SQLITE_ROW) {
              return fail(rc, "list_signing_keys");
            }
            SigningKeyRecord k;
            k.kid = column_text(*s, 0);
            k.alg = column_text(*s, 1);
            k.private_pem = column_text(*s, 2);
            k.created_at = sqlite3_column_int64(*s, 3);
            k.not_before = sqlite3_column_int64(*s, 4);
            k.retire_after = sqlite3_column_int64(*s, 5);
            out.push_back(std::move(k));
          }
        });
  }

  Result<void> put_signing_key(const SigningKeyRecord& k) override {
    return guarded<void>("put_signing_key", [&]() -> Result<void> {
      auto s = prepare(kPutKey);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, k.kid);
      if (rc == SQLITE_OK) rc = bind_text(*s, 2, k.alg);
      if (rc == SQLITE_OK) rc = bind_text(*s, 3, k.private_pem);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 4, k.created_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 5, k.not_before);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 6, k.retire_after);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_signing_key");
      }
      if (auto r = step_done(*s, "put_signing_key"); !r) {
        return r;
      }
      if (sqlite3_changes(db_) == 0) {
        log::warn("store.signing_key_conflict", {{"kid", k.kid}});
        return make_error_code(StoreErrc::Conflict);
      }
      return {};
    });
  }

  Result<bool> replace_signing_key_material(const std::string& kid, const std::string& expected,
                                            const std::string& replacement) override {
    return guarded<bool>("replace_signing_key_material", [&]() -> Result<bool> {
      // Result<bool> does not take an error_code implicitly (error_code converts to bool).
      auto err = [](ErrorCode ec) { return Result<bool>(boost::system::in_place_error, ec); };
      auto s = prepare(kReplaceKeyMaterial);
      if (!s) {
        return err(s.error());
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, kid);
      if (rc == SQLITE_OK) rc = bind_text(*s, 2, expected);
      if (rc == SQLITE_OK) rc = bind_text(*s, 3, replacement);
      if (rc != SQLITE_OK) {
        return err(fail(rc, "replace_signing_key_material"));
      }
      if (auto r = step_done(*s, "replace_signing_key_material"); !r) {
        return err(r.error());
      }
      return sqlite3_changes(db_) == 1;
    });
  }

  // --- TokenStore ---------------------------------------------------------------------------

  Result<void> put_token(const TokenRecord& t) override {
    if (writer_) {
      // Group commit (group_commit.hpp): batched with concurrent writers, durable on return.
      return token_result(
          writer_->run([&t](GroupCommitter::Connection& c) { return insert_token(c, t); }));
    }
    return guarded<void>("put_token", [&]() -> Result<void> {
      auto s = prepare(kPutToken.c_str());
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      if (int rc = bind_token(*s, t); rc != SQLITE_OK) {
        return fail(rc, "put_token");
      }
      // Autocommit with synchronous=FULL: the WAL is synced before sqlite3_step returns.
      return step_done(*s, "put_token");
    });
  }

  void put_token_async(const TokenRecord& t, std::function<void(Result<void>)> done) override {
    if (!writer_) {
      done(put_token(t));
      return;
    }
    // The record is copied into the write: the bindings point into it until the step is done.
    writer_->submit(
        [t](GroupCommitter::Connection& c) { return insert_token(c, t); },
        [done = std::move(done)](int rc) { done(token_result(rc)); });
  }

  // Takes over a group committer for put_token (open_impl: file databases opened read-write).
  void attach_writer(std::unique_ptr<GroupCommitter> writer) { writer_ = std::move(writer); }

  static int bind_token(sqlite3_stmt* s, const TokenRecord& t) {
    int rc = SQLITE_OK;
    int i = 0;
    for (const std::string* v : {&t.token_hash, &t.kind, &t.jti, &t.client_id, &t.subject,
                                 &t.scope, &t.audience, &t.cnf_x5t_s256}) {
      if (rc == SQLITE_OK) {
        rc = bind_text(s, ++i, *v);
      }
    }
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 9, t.issued_at);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 10, t.expires_at);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 11, t.revoked ? 1 : 0);
    if (rc == SQLITE_OK) rc = bind_text(s, 12, t.grant_id);
    return rc;
  }

  // Runs on the group committer's thread and connection, inside its transaction.
  static int insert_token(GroupCommitter::Connection& c, const TokenRecord& t) {
    sqlite3_stmt* s = c.prepare(kPutToken.c_str());
    if (!s) {
      return sqlite3_errcode(c.db());
    }
    StmtUse use(s);
    int rc = bind_token(s, t);
    return rc == SQLITE_OK ? sqlite3_step(s) : rc;
  }

  static Result<void> token_result(int rc) {
    if (rc == SQLITE_OK || rc == SQLITE_DONE) {
      return {};
    }
    return make_error_code(map_rc(rc));  // logged by the committer
  }

  Result<std::optional<TokenRecord>> find_token(const std::string& hash) override {
    return guarded<std::optional<TokenRecord>>(
        "find_token", [&]() -> Result<std::optional<TokenRecord>> {
          auto s = prepare(kFindToken.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, hash); rc != SQLITE_OK) {
            return fail(rc, "find_token");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<TokenRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_token");
          }
          TokenRecord t;
          t.token_hash = column_text(*s, 0);
          t.kind = column_text(*s, 1);
          t.jti = column_text(*s, 2);
          t.client_id = column_text(*s, 3);
          t.subject = column_text(*s, 4);
          t.scope = column_text(*s, 5);
          t.audience = column_text(*s, 6);
          t.cnf_x5t_s256 = column_text(*s, 7);
          t.issued_at = sqlite3_column_int64(*s, 8);
          t.expires_at = sqlite3_column_int64(*s, 9);
          t.revoked = sqlite3_column_int(*s, 10) != 0;
          t.grant_id = column_text(*s, 11);
          return std::optional<TokenRecord>(std::move(t));
        });
  }

  Result<void> revoke_token(const std::string& hash) override {
    return guarded<void>("revoke_token", [&]() -> Result<void> {
      return exec_one_text(kRevokeToken, hash, "revoke_token");
    });
  }

  Result<void> revoke_grant(const std::string& grant_id) override {
    // An empty grant_id means "no grant": it must not revoke every token that has none.
    if (grant_id.empty()) {
      return {};
    }
    return guarded<void>("revoke_grant", [&]() -> Result<void> {
      // The grant is remembered first, then its tokens revoked: an issuer that writes tokens
      // for this grant and re-checks grant_revoked() afterwards either sees the mark or wrote
      // them before the UPDATE below, which then revokes them.
      if (auto r = exec_one_text(kRememberRevokedGrant, grant_id, "revoke_grant"); !r) {
        return r;
      }
      return exec_one_text(kRevokeGrant, grant_id, "revoke_grant");
    });
  }

  Result<bool> revoke_token_if_active(const std::string& hash) override {
    return guarded<bool>("revoke_token_if_active", [&]() -> Result<bool> {
      if (auto r = exec_one_text(kRevokeActiveToken, hash, "revoke_token_if_active"); !r) {
        return bool_error(r.error());
      }
      // One UPDATE on one connection file-locks the row's page: exactly one caller sees 1.
      return sqlite3_changes(db_) == 1;
    });
  }

  Result<bool> grant_revoked(const std::string& grant_id) override {
    if (grant_id.empty()) {
      return false;
    }
    return guarded<bool>("grant_revoked", [&]() -> Result<bool> {
      auto s = prepare(kGrantRevoked);
      if (!s) {
        return bool_error(s.error());
      }
      StmtUse use(*s);
      if (int rc = bind_text(*s, 1, grant_id); rc != SQLITE_OK) {
        return bool_error(fail(rc, "grant_revoked"));
      }
      const int rc = sqlite3_step(*s);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return bool_error(fail(rc, "grant_revoked"));
      }
      return rc == SQLITE_ROW;
    });
  }

  Result<std::size_t> purge_expired(std::int64_t before) override {
    return guarded<std::size_t>("purge_expired", [&]() -> Result<std::size_t> {
      auto tokens = delete_before(kPurgeExpired, before, "purge_expired");
      if (!tokens) {
        return tokens;
      }
      // Codes too: a used code is kept until it expires so that a second use is recognised
      // (and revokes its grant); after that it is only an unknown code.
      auto codes = delete_before(kPurgeExpiredCodes, before, "purge_expired");
      if (!codes) {
        return codes;
      }
      return *tokens + *codes;
    });
  }

  Result<std::size_t> purge_revoked_grants(std::int64_t revoked_before) override {
    return guarded<std::size_t>("purge_revoked_grants", [&]() -> Result<std::size_t> {
      return delete_before(kPurgeRevokedGrants, revoked_before, "purge_revoked_grants");
    });
  }

  // --- CodeStore ----------------------------------------------------------------------------

  Result<void> put_code(const AuthorizationCodeRecord& c) override {
    return guarded<void>("put_code", [&]() -> Result<void> {
      auto s = prepare(kPutCode.c_str());
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = SQLITE_OK;
      int i = 0;
      for (const std::string* v : {&c.code_hash, &c.client_id, &c.subject, &c.scope,
                                   &c.redirect_uri, &c.code_challenge, &c.nonce, &c.acr}) {
        if (rc == SQLITE_OK) {
          rc = bind_text(*s, ++i, *v);
        }
      }
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 9, c.auth_time);
      i = 9;
      for (const std::string* v : {&c.cnf_x5t_s256, &c.claims_json, &c.resource, &c.grant_id}) {
        if (rc == SQLITE_OK) {
          rc = bind_text(*s, ++i, *v);
        }
      }
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 14, c.issued_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 15, c.expires_at);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_code");
      }
      // Autocommit with synchronous=FULL: durable before the code goes to the browser.
      return step_done(*s, "put_code");
    });
  }

  Result<std::optional<RedeemedCode>> redeem_code(const std::string& code_hash) override {
    return guarded<std::optional<RedeemedCode>>(
        "redeem_code", [&]() -> Result<std::optional<RedeemedCode>> {
          bool first_use = false;
          {
            auto s = prepare(kMarkCodeUsed);
            if (!s) {
              return s.error();
            }
            StmtUse use(*s);
            if (int rc = bind_text(*s, 1, code_hash); rc != SQLITE_OK) {
              return fail(rc, "redeem_code");
            }
            if (auto r = step_done(*s, "redeem_code"); !r) {
              return r.error();
            }
            first_use = sqlite3_changes(db_) == 1;
          }
          auto s = prepare(kFindCode.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, code_hash); rc != SQLITE_OK) {
            return fail(rc, "redeem_code");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<RedeemedCode>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "redeem_code");
          }
          RedeemedCode out;
          out.first_use = first_use;
          AuthorizationCodeRecord& c = out.code;
          c.code_hash = column_text(*s, 0);
          c.client_id = column_text(*s, 1);
          c.subject = column_text(*s, 2);
          c.scope = column_text(*s, 3);
          c.redirect_uri = column_text(*s, 4);
          c.code_challenge = column_text(*s, 5);
          c.nonce = column_text(*s, 6);
          c.acr = column_text(*s, 7);
          c.auth_time = sqlite3_column_int64(*s, 8);
          c.cnf_x5t_s256 = column_text(*s, 9);
          c.claims_json = column_text(*s, 10);
          c.resource = column_text(*s, 11);
          c.grant_id = column_text(*s, 12);
          c.issued_at = sqlite3_column_int64(*s, 13);
          c.expires_at = sqlite3_column_int64(*s, 14);
          return std::optional<RedeemedCode>(std::move(out));
        });
  }

  // --- GrantStore ---------------------------------------------------------------------------

  Result<void> put_grant(const GrantRecord& g) override {
    return guarded<void>("put_grant", [&]() -> Result<void> {
      auto s = prepare(kPutGrant);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, g.grant_id);
      if (rc == SQLITE_OK) rc = bind_text(*s, 2, g.client_id);
      if (rc == SQLITE_OK) rc = bind_text(*s, 3, g.subject);
      if (rc == SQLITE_OK) rc = bind_text(*s, 4, g.scope);
      if (rc == SQLITE_OK) rc = bind_text(*s, 5, g.acr);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 6, g.auth_time);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 7, g.created_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 8, g.expires_at);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_grant");
      }
      return step_done(*s, "put_grant");
    });
  }

  Result<std::optional<GrantRecord>> find_grant(const std::string& grant_id) override {
    return guarded<std::optional<GrantRecord>>(
        "find_grant", [&]() -> Result<std::optional<GrantRecord>> {
          auto s = prepare(kFindGrant);
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, grant_id); rc != SQLITE_OK) {
            return fail(rc, "find_grant");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<GrantRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_grant");
          }
          GrantRecord g;
          g.grant_id = column_text(*s, 0);
          g.client_id = column_text(*s, 1);
          g.subject = column_text(*s, 2);
          g.scope = column_text(*s, 3);
          g.acr = column_text(*s, 4);
          g.auth_time = sqlite3_column_int64(*s, 5);
          g.created_at = sqlite3_column_int64(*s, 6);
          g.expires_at = sqlite3_column_int64(*s, 7);
          return std::optional<GrantRecord>(std::move(g));
        });
  }

  // --- ReplayStore --------------------------------------------------------------------------

  Result<bool> remember_once(const std::string& key, std::int64_t expires_at,
                             std::int64_t now) override {
    return guarded<bool>("remember_once", [&]() -> Result<bool> {
      // Result<bool> does not take an error_code implicitly (error_code converts to bool).
      auto err = [](ErrorCode ec) { return Result<bool>(boost::system::in_place_error, ec); };
      if (++replay_calls_ % kReplayPurgeEvery == 0) {
        if (auto r = purge_replay_locked(now); !r) {
          return err(r.error());
        }
      }
      auto s = prepare(kRememberOnce);
      if (!s) {
        return err(s.error());
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, key);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 2, expires_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, now);
      if (rc != SQLITE_OK) {
        return err(fail(rc, "remember_once"));
      }
      // Autocommit with synchronous=FULL: remembered durably before the caller accepts.
      if (auto r = step_done(*s, "remember_once"); !r) {
        return err(r.error());
      }
      return sqlite3_changes(db_) == 1;
    });
  }

  Result<std::size_t> purge_replay(std::int64_t before) override {
    return guarded<std::size_t>("purge_replay",
                                [&]() -> Result<std::size_t> { return purge_replay_locked(before); });
  }

  // --- PushedRequestStore -------------------------------------------------------------------

  Result<void> put_pushed_request(const PushedRequestRecord& r) override {
    return guarded<void>("put_pushed_request", [&]() -> Result<void> {
      // Expired requests go first: the table holds only live ones (each lives < 10 min).
      if (auto p = exec_one_int(kPurgePushed, r.created_at, "put_pushed_request"); !p) {
        return p.error();
      }
      auto s = prepare(kPutPushed);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = SQLITE_OK;
      int i = 0;
      for (const std::string* v : {&r.request_uri_hash, &r.client_id, &r.params_json,
                                   &r.cnf_x5t_s256}) {
        if (rc == SQLITE_OK) {
          rc = bind_text(*s, ++i, *v);
        }
      }
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 5, r.created_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 6, r.expires_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(*s, 7, r.used ? 1 : 0);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_pushed_request");
      }
      return step_done(*s, "put_pushed_request");
    });
  }

  Result<std::optional<PushedRequestRecord>> find_pushed_request(
      const std::string& hash) override {
    return guarded<std::optional<PushedRequestRecord>>(
        "find_pushed_request", [&]() -> Result<std::optional<PushedRequestRecord>> {
          auto s = prepare(kFindPushed);
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, hash); rc != SQLITE_OK) {
            return fail(rc, "find_pushed_request");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<PushedRequestRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_pushed_request");
          }
          PushedRequestRecord r;
          r.request_uri_hash = column_text(*s, 0);
          r.client_id = column_text(*s, 1);
          r.params_json = column_text(*s, 2);
          r.cnf_x5t_s256 = column_text(*s, 3);
          r.created_at = sqlite3_column_int64(*s, 4);
          r.expires_at = sqlite3_column_int64(*s, 5);
          r.used = sqlite3_column_int(*s, 6) != 0;
          return std::optional<PushedRequestRecord>(std::move(r));
        });
  }

  Result<bool> consume_pushed_request(const std::string& hash, std::int64_t now) override {
    return guarded<bool>("consume_pushed_request", [&]() -> Result<bool> {
      auto err = [](ErrorCode ec) { return Result<bool>(boost::system::in_place_error, ec); };
      auto s = prepare(kConsumePushed);
      if (!s) {
        return err(s.error());
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, hash);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 2, now);
      if (rc != SQLITE_OK) {
        return err(fail(rc, "consume_pushed_request"));
      }
      if (auto r = step_done(*s, "consume_pushed_request"); !r) {
        return err(r.error());
      }
      return sqlite3_changes(db_) == 1;
    });
  }

  // --- UserStore ----------------------------------------------------------------------------

  Result<std::optional<UserRecord>> find_user(const std::string& username) override {
    return guarded<std::optional<UserRecord>>(
        "find_user", [&]() -> Result<std::optional<UserRecord>> {
          auto s = prepare(kFindUser);
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, username); rc != SQLITE_OK) {
            return fail(rc, "find_user");
          }
          int rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<UserRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_user");
          }
          UserRecord u;
          u.username = column_text(*s, 0);
          u.password_hash = column_text(*s, 1);
          u.created_at = sqlite3_column_int64(*s, 2);
          return std::optional<UserRecord>(std::move(u));
        });
  }

  Result<void> put_user(const UserRecord& u) override {
    return guarded<void>("put_user", [&]() -> Result<void> {
      auto s = prepare(kPutUser);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, u.username);
      if (rc == SQLITE_OK) rc = bind_text(*s, 2, u.password_hash);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, u.created_at);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_user");
      }
      return step_done(*s, "put_user");
    });
  }

  Result<std::int64_t> note_login_failure(const std::string& key, std::int64_t now,
                                          std::int64_t window_seconds) override {
    return guarded<std::int64_t>("note_login_failure", [&]() -> Result<std::int64_t> {
      auto s = prepare(kNoteFailure);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, key);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 2, now);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, window_seconds);
      if (rc != SQLITE_OK) {
        return fail(rc, "note_login_failure");
      }
      rc = sqlite3_step(*s);
      if (rc != SQLITE_ROW) {
        return fail(rc, "note_login_failure");
      }
      std::int64_t n = sqlite3_column_int64(*s, 0);
      // Finish the statement so that the write commits now.
      rc = sqlite3_step(*s);
      if (rc != SQLITE_DONE) {
        return fail(rc, "note_login_failure");
      }
      return n;
    });
  }

  Result<std::int64_t> login_failures(const std::string& key, std::int64_t now,
                                      std::int64_t window_seconds) override {
    return guarded<std::int64_t>("login_failures", [&]() -> Result<std::int64_t> {
      auto s = prepare(kLoginFailures);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, key);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 2, now);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, window_seconds);
      if (rc != SQLITE_OK) {
        return fail(rc, "login_failures");
      }
      rc = sqlite3_step(*s);
      if (rc == SQLITE_DONE) {
        return std::int64_t{0};
      }
      if (rc != SQLITE_ROW) {
        return fail(rc, "login_failures");
      }
      return sqlite3_column_int64(*s, 0);
    });
  }

  Result<void> clear_login_failures(const std::string& key) override {
    return guarded<void>("clear_login_failures", [&]() -> Result<void> {
      return exec_one_text(kClearFailures, key, "clear_login_failures");
    });
  }

  // --- ConsentStore -------------------------------------------------------------------------

  Result<void> put_consent(const ConsentRecord& c) override {
    return guarded<void>("put_consent", [&]() -> Result<void> {
      auto s = prepare(kPutConsent.c_str());
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = SQLITE_OK;
      int i = 0;
      for (const std::string* v : {&c.consent_id, &c.subject, &c.client_id, &c.scope,
                                   &c.grant_id}) {
        if (rc == SQLITE_OK) {
          rc = bind_text(*s, ++i, *v);
        }
      }
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 6, c.granted_at);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(*s, 7, c.withdrawn ? 1 : 0);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 8, c.withdrawn_at);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_consent");
      }
      return step_done(*s, "put_consent");
    });
  }

  Result<std::vector<ConsentRecord>> list_consents(const std::string& subject) override {
    return guarded<std::vector<ConsentRecord>>(
        "list_consents", [&]() -> Result<std::vector<ConsentRecord>> {
          auto s = prepare(kListConsents.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, subject); rc != SQLITE_OK) {
            return fail(rc, "list_consents");
          }
          std::vector<ConsentRecord> out;
          for (;;) {
            int rc = sqlite3_step(*s);
            if (rc == SQLITE_DONE) {
              return out;
            }
            if (rc != SQLITE_ROW) {
              return fail(rc, "list_consents");
            }
            out.push_back(read_consent(*s));
          }
        });
  }

  Result<std::optional<ConsentRecord>> withdraw_consent(const std::string& consent_id,
                                                        const std::string& subject,
                                                        std::int64_t now) override {
    return guarded<std::optional<ConsentRecord>>(
        "withdraw_consent", [&]() -> Result<std::optional<ConsentRecord>> {
          {
            auto s = prepare(kWithdrawConsent);
            if (!s) {
              return s.error();
            }
            StmtUse use(*s);
            int rc = bind_text(*s, 1, consent_id);
            if (rc == SQLITE_OK) rc = bind_text(*s, 2, subject);
            if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, now);
            if (rc != SQLITE_OK) {
              return fail(rc, "withdraw_consent");
            }
            if (auto r = step_done(*s, "withdraw_consent"); !r) {
              return r.error();
            }
            if (sqlite3_changes(db_) != 1) {
              return std::optional<ConsentRecord>();
            }
          }
          auto s = prepare(kFindConsent.c_str());
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          if (int rc = bind_text(*s, 1, consent_id); rc != SQLITE_OK) {
            return fail(rc, "withdraw_consent");
          }
          int rc = sqlite3_step(*s);
          if (rc != SQLITE_ROW) {
            return rc == SQLITE_DONE ? Result<std::optional<ConsentRecord>>(
                                           std::optional<ConsentRecord>())
                                     : Result<std::optional<ConsentRecord>>(
                                           fail(rc, "withdraw_consent"));
          }
          return std::optional<ConsentRecord>(read_consent(*s));
        });
  }

  // --- SessionStore -------------------------------------------------------------------------

  Result<void> put_session(const BrowserSessionRecord& b) override {
    return guarded<void>("put_session", [&]() -> Result<void> {
      if (auto p = exec_one_int(kPurgeSessions, b.auth_time, "put_session"); !p) {
        return p.error();
      }
      auto s = prepare(kPutSession);
      if (!s) {
        return s.error();
      }
      StmtUse use(*s);
      int rc = bind_text(*s, 1, b.session_hash);
      if (rc == SQLITE_OK) rc = bind_text(*s, 2, b.subject);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 3, b.auth_time);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 4, b.expires_at);
      if (rc != SQLITE_OK) {
        return fail(rc, "put_session");
      }
      return step_done(*s, "put_session");
    });
  }

  Result<std::optional<BrowserSessionRecord>> find_session(const std::string& hash,
                                                           std::int64_t now) override {
    return guarded<std::optional<BrowserSessionRecord>>(
        "find_session", [&]() -> Result<std::optional<BrowserSessionRecord>> {
          auto s = prepare(kFindSession);
          if (!s) {
            return s.error();
          }
          StmtUse use(*s);
          int rc = bind_text(*s, 1, hash);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(*s, 2, now);
          if (rc != SQLITE_OK) {
            return fail(rc, "find_session");
          }
          rc = sqlite3_step(*s);
          if (rc == SQLITE_DONE) {
            return std::optional<BrowserSessionRecord>();
          }
          if (rc != SQLITE_ROW) {
            return fail(rc, "find_session");
          }
          BrowserSessionRecord b;
          b.session_hash = column_text(*s, 0);
          b.subject = column_text(*s, 1);
          b.auth_time = sqlite3_column_int64(*s, 2);
          b.expires_at = sqlite3_column_int64(*s, 3);
          return std::optional<BrowserSessionRecord>(std::move(b));
        });
  }

  Result<void> delete_session(const std::string& hash) override {
    return guarded<void>("delete_session", [&]() -> Result<void> {
      return exec_one_text(kDeleteSession, hash, "delete_session");
    });
  }

private:
  static ConsentRecord read_consent(sqlite3_stmt* s) {
    ConsentRecord c;
    c.consent_id = column_text(s, 0);
    c.subject = column_text(s, 1);
    c.client_id = column_text(s, 2);
    c.scope = column_text(s, 3);
    c.grant_id = column_text(s, 4);
    c.granted_at = sqlite3_column_int64(s, 5);
    c.withdrawn = sqlite3_column_int(s, 6) != 0;
    c.withdrawn_at = sqlite3_column_int64(s, 7);
    return c;
  }

  Result<void> exec_one_int(const char* sql, std::int64_t arg, const char* op) {
    auto s = prepare(sql);
    if (!s) {
      return s.error();
    }
    StmtUse use(*s);
    if (int rc = sqlite3_bind_int64(*s, 1, arg); rc != SQLITE_OK) {
      return fail(rc, op);
    }
    return step_done(*s, op);
  }

  Result<std::size_t> purge_replay_locked(std::int64_t before) {
    return delete_before(kPurgeReplay, before, "purge_replay");
  }

  // A DELETE ... WHERE column < ?1: how many rows went.
  Result<std::size_t> delete_before(const char* sql, std::int64_t before, const char* op) {
    if (auto r = exec_one_int(sql, before, op); !r) {
      return r.error();
    }
    return static_cast<std::size_t>(sqlite3_changes64(db_));
  }

  // Runs one operation under the connection mutex; an exception (bad_alloc, a failed lock) is
  // turned into Internal so that nothing escapes the interface.
  template <class T, class Fn>
  Result<T> guarded(const char* op, Fn&& fn) {
    try {
      std::lock_guard lock(mu_);
      return fn();
    } catch (const std::exception& e) {
      log::error("store.exception", {{"op", op}, {"what", e.what()}});
      return Result<T>(boost::system::in_place_error, make_error_code(StoreErrc::Internal));
    }
  }

  // Result<bool> converts from both bool and error_code; say which.
  static Result<bool> bool_error(ErrorCode e) {
    return Result<bool>(boost::system::in_place_error, e);
  }

  Result<sqlite3_stmt*> prepare(const char* sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return fail(rc, "prepare");
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  static int bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    return sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  }

  Result<void> step_done(sqlite3_stmt* s, const char* op) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      return fail(rc, op);
    }
    return {};
  }

  Result<void> exec_one_text(const char* sql, const std::string& arg, const char* op) {
    auto s = prepare(sql);
    if (!s) {
      return s.error();
    }
    StmtUse use(*s);
    if (int rc = bind_text(*s, 1, arg); rc != SQLITE_OK) {
      return fail(rc, op);
    }
    return step_done(*s, op);
  }

  Result<ClientRecord> read_client(sqlite3_stmt* s) {
    ClientRecord c;
    c.client_id = column_text(s, 0);
    c.token_endpoint_auth_method = column_text(s, 1);
    c.tls_client_auth_subject_dn = column_text(s, 2);
    c.tls_client_auth_san_dns = column_text(s, 3);
    c.tls_client_auth_san_uri = column_text(s, 4);
    c.tls_client_auth_san_ip = column_text(s, 5);
    c.tls_client_auth_san_email = column_text(s, 6);
    if (!decode_list(column_text(s, 7), c.grant_types) ||
        !decode_list(column_text(s, 8), c.scopes) ||
        !decode_list(column_text(s, 9), c.redirect_uris)) {
      log::error("store.corrupt_row", {{"table", "clients"}, {"client_id", c.client_id}});
      return make_error_code(StoreErrc::Corrupt);
    }
    c.jwks_json = column_text(s, 10);
    c.metadata_json = column_text(s, 11);
    c.created_at = sqlite3_column_int64(s, 12);
    return c;
  }

  ErrorCode fail(int rc, const char* op) {
    StoreErrc e = map_rc(rc);
    log::Level level = e == StoreErrc::Conflict ? log::Level::Warn : log::Level::Error;
    log::write(level, "store.sqlite_error",
               {{"op", op},
                {"code", sqlite3_extended_errcode(db_)},
                {"message", sqlite3_errmsg(db_)},
                {"path", path_}});
    return make_error_code(e);
  }

  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
  unsigned replay_calls_ = 0;  // under mu_
  std::unique_ptr<GroupCommitter> writer_;  // null: put_token commits on db_ itself
};

// --- Opening ----------------------------------------------------------------------------------

ErrorCode open_failure(sqlite3* db, int rc, const std::string& path, const char* step) {
  log::error("store.open_failed", {{"path", path},
                                   {"step", step},
                                   {"code", db ? sqlite3_extended_errcode(db) : rc},
                                   {"message", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)}});
  return make_error_code(map_rc(rc));
}

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

// Runs a single-value query (a PRAGMA); the text of the first column of the first row.
int query_text(sqlite3* db, const char* sql, std::string& out) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      out = column_text(s, 0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(s);
  return rc;
}

int user_version(sqlite3* db, int& version) {
  std::string v;
  int rc = query_text(db, "PRAGMA user_version", v);
  if (rc == SQLITE_OK) {
    version = v.empty() ? 0 : std::atoi(v.c_str());
  }
  return rc;
}

Result<void> migrate(sqlite3* db, const std::string& path) {
  // IMMEDIATE takes the write lock first, so two processes opening a fresh file at once do not
  // both run the migration.
  if (int rc = exec(db, "BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return open_failure(db, rc, path, "begin migration");
  }
  int version = 0;
  int rc = user_version(db, version);
  if (rc == SQLITE_OK && version > kSchemaVersion) {
    exec(db, "ROLLBACK");
    log::error("store.schema_too_new",
               {{"path", path}, {"version", version}, {"supported", kSchemaVersion}});
    return make_error_code(StoreErrc::Unavailable);
  }
  for (int v = version; rc == SQLITE_OK && v < kSchemaVersion; ++v) {
    rc = exec(db, std::string(kMigrations[v]).c_str());
    if (rc == SQLITE_OK) {
      rc = exec(db, ("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    }
  }
  if (rc == SQLITE_OK) {
    rc = exec(db, "COMMIT");
  }
  if (rc != SQLITE_OK) {
    ErrorCode ec = open_failure(db, rc, path, "migration");
    exec(db, "ROLLBACK");
    return ec;
  }
  if (version < kSchemaVersion) {
    log::info("store.migrated", {{"path", path}, {"from", version}, {"to", kSchemaVersion}});
  }
  return {};
}

Result<std::unique_ptr<Store>> open_impl(const std::string& path, const SqliteOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (path.rfind("file:", 0) == 0) {
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // From here on the store (or this guard) owns the handle, even after a failed open.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
  if (rc != SQLITE_OK) {
    return open_failure(db.get(), rc, path, "open");
  }
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  if (rc = exec(db.get(), "PRAGMA foreign_keys = ON"); rc != SQLITE_OK) {
    return open_failure(db.get(), rc, path, "foreign_keys");
  }
  // Reading the header first: a file that is not a database fails here as Corrupt.
  int version = 0;
  if (rc = user_version(db.get(), version); rc != SQLITE_OK) {
    return open_failure(db.get(), rc, path, "read schema version");
  }
  bool read_only = options.read_only || sqlite3_db_readonly(db.get(), "main") == 1;
  if (!read_only) {
    std::string mode;
    if (rc = query_text(db.get(), "PRAGMA journal_mode = WAL", mode); rc != SQLITE_OK) {
      return open_failure(db.get(), rc, path, "journal_mode");
    }
    if (mode != "wal" && path != ":memory:") {
      log::warn("store.not_wal", {{"path", path}, {"journal_mode", mode}});
    }
  }
  if (rc = exec(db.get(), "PRAGMA synchronous = FULL"); rc != SQLITE_OK) {
    return open_failure(db.get(), rc, path, "synchronous");
  }
  if (version != kSchemaVersion) {
    if (read_only) {
      log::error("store.schema_mismatch",
                 {{"path", path}, {"version", version}, {"expected", kSchemaVersion},
                  {"hint", "open it once read-write to create or migrate the schema"}});
      return make_error_code(StoreErrc::Unavailable);
    }
    if (auto r = migrate(db.get(), path); !r) {
      return r.error();
    }
  }
  if (read_only) {
    log::warn("store.read_only", {{"path", path}});
  }
  auto store = std::make_unique<SqliteStore>(db.release(), path);
  // Token writes go through a group committer (group_commit.hpp) when a second connection sees
  // the same database: a file opened read-write, not ":memory:" or a "file:" URI.
  if (!read_only && !path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0) {
    GroupCommitOptions group;
    group.busy_timeout_ms = options.busy_timeout_ms;
    auto writer = GroupCommitter::open(path, group);
    if (!writer) {
      return make_error_code(StoreErrc::Unavailable);
    }
    store->attach_writer(std::move(*writer));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  return open_sqlite_store(path, SqliteOptions{});
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                 const SqliteOptions& options) {
  try {
    return open_impl(path, options);
  } catch (const std::exception& e) {
    log::error("store.exception", {{"op", "open"}, {"what", e.what()}});
    return make_error_code(StoreErrc::Internal);
  }
}

}  // namespace fapigate::store
