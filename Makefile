# podrt: the two commands a new user needs are `make demo` and `make test` (see README.md).
BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
BUILD_TYPE     ?= RelWithDebInfo
JOBS           ?= $(shell nproc)

.PHONY: all deps build build-asan demo test test-fast bench clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	ninja -C $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPODRT_SANITIZE=ON >/dev/null
	ninja -C $(ASAN_BUILD_DIR) -j $(JOBS)

# Builds, then runs the example: fetch an image, list it, prepare a pod and look at it.
demo: build
	scripts/demo $(BUILD_DIR)

# The whole suite, in the normal build and again under ASan+UBSan.
test: build build-asan
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The normal build only: quicker while developing.
test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	bench/run --build $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
