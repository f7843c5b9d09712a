# The README's two commands: `make demo` and `make test`. Both install what is missing first.
.PHONY: all deps build build-asan build-fuzz demo test fuzz soak bench clean

JOBS ?= $(shell nproc)
DEMO_DIR ?= ./demo-data
PORT_BASE ?= 8443

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target fapigate

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# clang libFuzzer targets (tests/fuzz); `make test` gives each a short run.
build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

demo: build
	build/fapigate demo --dir $(DEMO_DIR) --port-base $(PORT_BASE)

test: build-asan build-fuzz
	@ctest --preset asan

# Every fuzz target for FUZZ_SECONDS each, JOBS at a time; a crash stops with its input saved.
FUZZ_SECONDS ?= 600
fuzz: build-fuzz
	@scripts/fuzz-run --all --seconds $(FUZZ_SECONDS) --jobs $(JOBS)

# Mixed AS + gateway traffic with bad tokens and certificates against the release build's demo
# (tests/interop/soak.mjs): zero wrong answers, bounded memory growth, no descriptor leak.
SOAK_SECONDS ?= 600
SOAK_RATE ?= 200
soak: build
	@node tests/interop/soak.mjs build/fapigate --seconds $(SOAK_SECONDS) --rate $(SOAK_RATE)

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@scripts/run-benchmarks

clean:
	rm -rf build build-asan build-fuzz
