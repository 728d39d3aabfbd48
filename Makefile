# siprecd front door. Every target installs what is missing first (scripts/setup).
BUILD_DIR ?= build
SAN_DIR   ?= build-fuzz
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 60
ARGS ?=

.PHONY: all setup setup-build configure build run test unit-tests sanitizer-tests \
        integration-tests fuzz fuzz-build bench format clean

all: build

setup:
	@scripts/setup

setup-build:
	@scripts/setup --build-only

configure: setup-build
	@cmake -G Ninja -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@ninja -C $(BUILD_DIR)

## make run: build, then start siprecd with the embedded defaults (ARGS="..." adds flags).
run: build
	./$(BUILD_DIR)/siprecd $(ARGS)

## make test: unit tests, sanitizer build (unit tests of the parsers + every fuzz corpus
## replayed under ASan+UBSan), then the integration tests against real peers.
test: setup
	@scripts/test

fuzz-build: setup-build
	@CC=clang-16 CXX=clang++-16 cmake -G Ninja -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DSIPRECD_FUZZ=ON -DSIPRECD_BUILD_APP=OFF >/dev/null
	@ninja -C $(SAN_DIR) fuzz_targets

## make fuzz: run every fuzz target for FUZZ_SECONDS; new inputs go to fuzz-artifacts/.
fuzz: fuzz-build
	@scripts/fuzz $(SAN_DIR) $(FUZZ_SECONDS)

bench: build setup
	@scripts/bench $(BUILD_DIR)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR)
