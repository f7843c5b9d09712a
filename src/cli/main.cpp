// fapigate: FAPI authorization server and mTLS API gateway. Subcommands: demo, serve, check,
// pki init, client, keys. CLI11 only maps flags onto options; every command has --help.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace fapigate::cli;
  CLI::App app{"fapigate: FAPI 2.0 / FAPI 1.0 Advanced authorization server and mTLS API gateway"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fapigate 0.1.0");

  DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "Run every role on loopback with a generated PKI");
  demo_cmd->add_option("--dir", demo.dir, "Directory for PKI, keys, database and demo.json")
      ->capture_default_str();
  demo_cmd->add_option("--port-base", demo.port_base,
                       "First of four ports: AS, AS mTLS, gateway, demo API")
      ->capture_default_str();
  demo_cmd->add_option("--log-level", demo.log_level, "debug, info, warn or error")
      ->capture_default_str();

  std::string config_path;
  auto* serve_cmd = app.add_subcommand("serve", "Run the roles a configuration file enables");
  serve_cmd->add_option("-c,--config", config_path, "YAML configuration file")->required();

  std::string check_path;
  auto* check_cmd = app.add_subcommand("check", "Validate a configuration file and exit");
  check_cmd->add_option("-c,--config", check_path, "YAML configuration file")->required();

  auto* pki_cmd = app.add_subcommand("pki", "Development PKI");
  pki_cmd->require_subcommand(1);
  std::string pki_dir = "./demo-data";
  auto* pki_init = pki_cmd->add_subcommand(
      "init", "Create a CA, a loopback server certificate and two partner client certificates");
  pki_init->add_option("--dir", pki_dir, "Directory (certificates go to DIR/pki)")
      ->capture_default_str();

  ClientOptions client;
  auto* client_cmd = app.add_subcommand(
      "client", "Partner smoke test: get a certificate-bound token over mTLS, then call the API");
  client_cmd->add_option("--demo-dir", client.demo_dir, "Take endpoints and credentials from DIR/demo.json");
  client_cmd->add_option("--token-url", client.token_url, "mTLS token endpoint");
  client_cmd->add_option("--api-url", client.api_url, "Resource URL behind the gateway");
  client_cmd->add_option("--method", client.method, "HTTP method of the API call")->capture_default_str();
  client_cmd->add_option("--body", client.body, "Body of the API call (POST/PUT)");
  client_cmd->add_option("--client-id", client.client_id, "Registered client_id");
  client_cmd->add_option("--scope", client.scope, "Scope to request")->capture_default_str();
  client_cmd->add_option("--cert", client.cert_file, "Client certificate (PEM)");
  client_cmd->add_option("--key", client.key_file, "Client private key (PEM)");
  client_cmd->add_option("--ca", client.ca_file, "CA bundle that signed the servers' certificates");
  client_cmd->add_option("--api-cert", client.api_cert_file,
                         "Call the API with this certificate instead (shows the replay refusal)");
  client_cmd->add_option("--api-key", client.api_key_file, "Key for --api-cert");

  std::string reload_config, reload_pid_file;
  auto* reload_cmd = app.add_subcommand(
      "reload",
      "Apply a changed configuration to the running `fapigate serve` (SIGHUP): TLS certificates, "
      "gateway routes and issuers, AS settings, passthrough routes, log level. The file is "
      "validated first; an invalid one is not sent. Listener addresses and ports, threads, "
      "limits and the store path need a restart (docs/CONFIG.md, Reload)");
  reload_cmd->add_option("-c,--config", reload_config,
                         "YAML configuration file (validated, and its pid_file used)");
  reload_cmd->add_option("--pid-file", reload_pid_file,
                         "Pid file of the running process (default: pid_file of --config)");

  auto* users_cmd = app.add_subcommand("users", "End users of the authorization server");
  users_cmd->require_subcommand(1);
  auto* users_hash = users_cmd->add_subcommand(
      "hash-password",
      "Read a password from standard input and print its encoded scrypt hash, the value for "
      "authorization_server.users[].password_hash");

  auto* keys_cmd = app.add_subcommand("keys", "The authorization server's signing keys");
  keys_cmd->require_subcommand(1);
  std::string keys_config;
  auto* keys_rotate = keys_cmd->add_subcommand(
      "rotate",
      "Add a new signing key (published now, signing after key_publish_ahead) and schedule the "
      "retirement of the current one once its tokens have expired");
  keys_rotate->add_option("-c,--config", keys_config, "YAML configuration file")->required();
  auto* keys_list = keys_cmd->add_subcommand(
      "list", "Show every signing key in the store with its state (never key material)");
  keys_list->add_option("-c,--config", keys_config, "YAML configuration file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*demo_cmd) return run_demo(demo);
  if (*serve_cmd) return run_serve(config_path);
  if (*check_cmd) return run_check(check_path);
  if (*pki_init) return run_pki_init(pki_dir);
  if (*client_cmd) return run_client(client);
  if (*reload_cmd) return run_reload(reload_config, reload_pid_file);
  if (*users_hash) return run_users_hash_password();
  if (*keys_rotate) return run_keys_rotate(keys_config);
  if (*keys_list) return run_keys_list(keys_config);
  return 2;
}
