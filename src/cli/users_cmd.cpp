// `fapigate users hash-password`: the encoded scrypt hash for authorization_server.users[]
// (as/password.hpp). The password is read from standard input (one line, or all of it when
// not a terminal), never from the command line, where other users could see it in ps.
#include <iostream>
#include <string>

#include "as/password.hpp"
#include "cli/commands.hpp"

namespace fapigate::cli {

int run_users_hash_password() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  if (password.empty()) {
    std::cerr << "fapigate users hash-password: no password on standard input\n";
    return 2;
  }
  if (password.size() > 1024) {
    std::cerr << "fapigate users hash-password: the password is longer than 1024 bytes\n";
    return 2;
  }
  auto hash = as::hash_password(password);
  if (!hash) {
    std::cerr << "fapigate users hash-password: " << hash.error().message() << "\n";
    return 1;
  }
  std::cout << *hash << "\n";
  return 0;
}

}  // namespace fapigate::cli
