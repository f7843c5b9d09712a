// `fapigate serve -c FILE`, `fapigate check -c FILE` and `fapigate pki init`.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/demo_pki.hpp"
#include "cli/runtime.hpp"
#include "config/loader.hpp"

namespace fapigate::cli {
namespace {

bool load(const std::string& path, config::Config& out, const char* command) {
  auto loaded = config::load_file(path);
  if (!loaded.ok()) {
    // Every problem at once, each naming the file and the key (STYLE.md §4.6).
    for (const auto& e : loaded.errors) {
      std::cerr << "fapigate " << command << ": " << e << "\n";
    }
    return false;
  }
  out = std::move(loaded.config);
  return true;
}

}  // namespace

int run_serve(const std::string& config_path) {
  config::Config cfg;
  if (!load(config_path, cfg, "serve")) {
    return 2;
  }
  return run_roles(
      cfg,
      [&](const BoundPorts& ports) {
        std::cout << "ready";
        for (const auto& [name, port] : ports) {
          std::cout << " " << name << "=" << port;
        }
        std::cout << std::endl;
      },
      config_path);
}

int run_check(const std::string& config_path) {
  config::Config cfg;
  if (!load(config_path, cfg, "check")) {
    return 2;
  }
  std::cout << config_path << ": ok\n";
  return 0;
}

int run_pki_init(const std::string& dir) {
  auto pki = ensure_pki(dir);
  if (!pki) {
    std::cerr << "fapigate pki init: " << pki.error().message() << "\n";
    return 1;
  }
  std::cout << "CA:            " << pki->ca_cert << "\n"
            << "server:        " << pki->server_cert << " (localhost, 127.0.0.1, ::1)\n"
            << "partner:       " << pki->partner_cert << " (" << pki->partner_subject_dn << ")\n"
            << "other partner: " << pki->other_partner_cert << " ("
            << pki->other_partner_subject_dn << ")\n";
  return 0;
}

}  // namespace fapigate::cli
