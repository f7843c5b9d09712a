// The subcommands. Each returns the process exit code (0 ok, 1 runtime failure, 2 usage or
// configuration error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fapigate::cli {

struct DemoOptions {
  std::string dir = "./demo-data";
  std::uint16_t port_base = 8443;
  std::string log_level = "info";
};
int run_demo(const DemoOptions& options);

int run_serve(const std::string& config_path);
int run_check(const std::string& config_path);
int run_pki_init(const std::string& dir);

struct ClientOptions {
  std::string demo_dir;  // read everything below from DIR/demo.json when set
  std::string token_url;
  std::string api_url;   // full URL of the resource
  std::string method = "POST";
  std::string body = R"({"instructed_amount":{"amount":"10.00","currency":"EUR"},"creditor_account":{"iban":"DE89370400440532013000"}})";
  std::string client_id;
  std::string scope = "payments";
  std::string cert_file, key_file, ca_file;
  std::string api_cert_file, api_key_file;  // another certificate for the API call (replay test)
};
int run_client(const ClientOptions& options);

// `fapigate reload -c FILE | --pid-file PATH` (reload.cpp): validates FILE, then sends SIGHUP to
// the process named by the pid file (checked to be a fapigate process).
int run_reload(const std::string& config_path, const std::string& pid_file);

// `fapigate users hash-password` (users_cmd.cpp): password on stdin, encoded scrypt hash out.
int run_users_hash_password();

// `fapigate keys rotate|list -c FILE` (keys_cmd.cpp).
int run_keys_rotate(const std::string& config_path);
int run_keys_list(const std::string& config_path);
// FAPIGATE_KEK when set (the key-encryption key if the config names no file).
std::optional<std::string> kek_from_environment();

}  // namespace fapigate::cli
