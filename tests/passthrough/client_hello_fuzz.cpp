// libFuzzer target for the ClientHello parser (STYLE.md §7): any bytes, never a crash, never a
// read past the input, and a name only when it is a valid host name. Built with clang only:
//   CXX=clang++ cmake -B build-fuzz -DFAPIGATE_FUZZ=ON && cmake --build build-fuzz --target client_hello_fuzz
//   build-fuzz/tests/passthrough/client_hello_fuzz -max_len=16389
// Seed it with real hellos, e.g. `openssl s_client -servername a.example ... -msg` records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "passthrough/client_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fapigate::passthrough;
  const ClientHello r = parse_client_hello({data, size});
  if (r.status == HelloStatus::Ok && !r.server_name.empty() &&
      !valid_sni_host_name(r.server_name)) {
    std::abort();
  }
  if (r.status == HelloStatus::NeedMore && r.needed > kMaxClientHelloBytes) {
    std::abort();
  }
  return 0;
}
