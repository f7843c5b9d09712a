# The README's two commands: `make demo` and `make test`. Both install what is missing first.
.PHONY: all deps build build-asan demo test bench clean

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

demo: build
	build/fapigate demo --dir $(DEMO_DIR) --port-base $(PORT_BASE)

test: build-asan
	@ctest --preset asan

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@scripts/run-benchmarks

clean:
	rm -rf build build-asan
