# Entry points. `make demo` and `make test` work on a fresh machine: they install what is missing.
PYTHON ?= python3
BUILD_DIR ?= build
MODEL ?=
JOBS ?= $(shell nproc)

# The scripts read these (make's defaults, or what the command line gives).
export PYTHON BUILD_DIR JOBS

.PHONY: deps deps-test build-package build test test-cpp test-python test-bench test-sanitize test-fuzz demo bench clean

# Build and run-time requirements only (scripts/requirements.txt): what `make demo` installs.
deps:
	./scripts/install_deps.sh

# Also the test stack (scripts/requirements-test.txt, torch, llama-cpp-python, GoogleTest, Eigen,
# validation layers).
deps-test:
	./scripts/install_deps.sh --test

# The Python package alone (editable install, build tree $(BUILD_DIR); the build shows its progress).
build-package: deps
	./scripts/build.sh

# The same build tree with the GoogleTest binaries and rwkv-gpu-bench added.
build: deps-test
	./scripts/build.sh --tests

test-cpp: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -LE gpu

test-python: build
	RWKV_GPU_VALIDATION=1 $(PYTHON) -m pytest -q tests/python

# The backend comparison suite (benchmarks/test_backends_bench.py) in its quick form: each
# backend x workload x model once, with the agreement checks, no timing. One CPU thread per
# backend: timings are not taken here, and spinning threads stall on shared cores.
# Timed: $(PYTHON) -m pytest benchmarks/ --benchmark-only (docs/benchmarks.md).
test-bench: build
	RWKV_GPU_VALIDATION=1 BENCH_THREADS=1 $(PYTHON) -m pytest -q benchmarks --benchmark-disable

# The C++ suite once more, built with AddressSanitizer and UndefinedBehaviorSanitizer (own build
# directory; the engine and tests only, no Python module).
SANITIZE_DIR ?= build-asan
test-sanitize: deps-test
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRWKV_GPU_BUILD_PYTHON=OFF \
		-DRWKV_GPU_BUILD_CLI=OFF -DRWKV_GPU_BUILD_TESTS=ON \
		"-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		"-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
	cmake --build $(SANITIZE_DIR) --target rwkv_core_tests -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 RWKV_GPU_VALIDATION=1 \
		$(SANITIZE_DIR)/tests/cpp/rwkv_core_tests --gtest_brief=1

# A short run of every fuzz target (tests/fuzz/fuzz_readers.py; longer runs: see its docstring):
# the Python readers through atheris, the C++ readers as libFuzzer binaries built by clang with
# coverage, ASan and UBSan (own build directory, the readers' sources only).
FUZZ_SECONDS ?= 15
FUZZ_DIR ?= build-fuzz
FUZZ_CXX ?= clang++-14
test-fuzz: build
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
		-DRWKV_GPU_BUILD_PYTHON=OFF -DRWKV_GPU_BUILD_CLI=OFF -DRWKV_GPU_BUILD_TESTS=OFF -DRWKV_GPU_BUILD_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_DIR) --target fuzz_gguf fuzz_vocab -j $(JOBS)
	RWKV_GPU_FUZZ_BIN=$(FUZZ_DIR)/tests/fuzz/native $(PYTHON) tests/fuzz/fuzz_readers.py all --seconds $(FUZZ_SECONDS)

test: test-cpp test-sanitize test-fuzz test-python test-bench

demo: build-package
	$(PYTHON) -m rwkv_gpu demo$(if $(MODEL), --model $(MODEL))

bench: build
	$(PYTHON) benchmarks/tokenizer_bench.py

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
