# Entry points. `make demo` and `make test` work on a fresh machine: they install what is missing.
PYTHON ?= python3
BUILD_DIR ?= build
MODEL ?=
JOBS ?= $(shell nproc)

# One CMake build serves the Python package (editable install), the GoogleTest binary and the CLI.
PIP_BUILD = $(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-build-isolation -e . \
	-Cbuild-dir=$(BUILD_DIR) -Ccmake.define.RWKV_GPU_BUILD_TESTS=ON -Ccmake.define.RWKV_GPU_BUILD_CLI=ON \
	-Ccmake.build-type=Release -Cbuild.verbose=false

.PHONY: deps build test test-cpp test-python demo bench clean

deps:
	./scripts/install_deps.sh

build: deps
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PIP_BUILD)

test-cpp: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -LE gpu

test-python: build
	RWKV_GPU_VALIDATION=1 $(PYTHON) -m pytest -q tests/python

test: test-cpp test-python

demo: build
	$(PYTHON) -m rwkv_gpu demo $(if $(MODEL),--model $(MODEL))

bench: build
	$(PYTHON) benchmarks/tokenizer_bench.py

clean:
	rm -rf $(BUILD_DIR)
