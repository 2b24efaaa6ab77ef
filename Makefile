# Vigie — the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr/local
DEMO_DIR ?= $(CURDIR)/.demo
CONFIG ?= config/vigie.toml

# Debian packages the build, the tests and the demo need.
APT_PACKAGES := libzmq3-dev libsqlite3-dev python3-zmq tmux systemd prometheus

.PHONY: all deps build debug test demo bench bench-restart bench-agent lint clean

all: build

## deps: install missing system packages (Debian; needs root or sudo)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Release binaries carry the Swift runtime and Foundation inside (no Swift toolchain on
# the target machine; `vigie push` starts in ~10 ms instead of ~20).
RELEASE_FLAGS := -c release --static-swift-stdlib

## build: release binaries in .build/release/{vigied,vigie,vigie-agent}
build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product vigied
	$(SWIFT) build $(RELEASE_FLAGS) --product vigie
	$(SWIFT) build $(RELEASE_FLAGS) --product vigie-agent

## debug: debug binaries in .build/debug
debug: deps
	$(SWIFT) build

## test: everything CI checks — formatting, unit, component and end-to-end tests
test: deps lint
	$(SWIFT) build --build-tests
	VIGIE_BIN_DIR=$(CURDIR)/.build/debug timeout --signal=KILL 1500 $(SWIFT) test --skip-build --parallel

## lint: swift-format (.swift-format: swift-nio's settings), warnings fail
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Benchmarks

## demo: build, start vigied with config/vigie.toml, feed it simulated traffic, watch live
demo: build
	@bash scripts/demo.sh "$(CONFIG)" "$(DEMO_DIR)"

## bench: ingest benchmarks (separate package)
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark

## bench-restart: time a restart with 1,000,000+ samples in the WAL since the last checkpoint
bench-restart: build
	@bash Benchmarks/restart.sh 1000000

## bench-agent: p99 of `vigie push --agent` with the daemon down
bench-agent: build
	@bash Benchmarks/agent-push.sh 200

clean:
	rm -rf .build $(DEMO_DIR)
