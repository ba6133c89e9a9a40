# Makefile -- thin wrapper over CMake/CTest for the everyday commands; the build itself is CMake.
#   make deps | build | test | test-asan | run | bench | format | format-check | clean

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
# Every C source and header of the project (build trees and run state excluded).
C_FILES = $(shell find . \( -path './build*' -o -path './.git' -o -path './run' \) -prune -o \
	\( -name '*.c' -o -name '*.h' \) -type f -print | sort)

.PHONY: all deps build test test-asan run bench format format-check clean

all: build

deps:
	bash scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: deps build
	ctest --test-dir $(BUILD_DIR) --output-on-failure $(CTEST_ARGS)

test-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DDADNS_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_DIR) --output-on-failure $(CTEST_ARGS)

run: deps build
	DADNS_BIN_DIR=$(CURDIR)/$(BUILD_DIR) bash scripts/run-local.sh

bench: deps build
	DADNS_BIN_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/run.sh $(BENCH_ARGS)

.PHONY: bench-mysql
bench-mysql: deps build
	DADNS_BIN_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/run-mysql.sh $(BENCH_ARGS)

.PHONY: bench-reconcile
bench-reconcile: deps build
	DADNS_BIN_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/reconcile.sh $(BENCH_ARGS)

.PHONY: bench-faults
bench-faults: deps build
	DADNS_BIN_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/faults.sh $(BENCH_ARGS)

format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run -Werror $(C_FILES)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
