// FAPI_FUZZ_CHECK(cond): the invariant a fuzz target asserts about a parser's answer. A
// violation prints the condition and aborts, so that libFuzzer saves the input and the replay
// under ASan (make test) fails on it. Never compiled out: these are the target's assertions.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FAPI_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)
