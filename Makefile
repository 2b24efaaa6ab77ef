# Vigie — the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
# Binaries `make install`/`make deb` take (built by `make build` unless given).
BIN_DIR ?= .build/release
VERSION := $(shell sed -n 's/.*static let string = "\(.*\)"/\1/p' Sources/VigieCore/VigieVersion.swift)
DEB_DIR ?= .build/deb
DEB_COMPRESSION ?= xz
DEMO_DIR ?= $(CURDIR)/.demo
CONFIG ?= config/vigie.toml
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_MERGE ?=

# Debian packages by purpose: building and running (`make deps`, run by build, demo and
# test), and what only the tests use (`make test-deps`: python3-zmq for the pyzmq
# examples, tmux to drive the live view, systemd for systemd-analyze, prometheus for
# promtool and a real scrape, dpkg-dev for dpkg-shlibdeps, openssl for test certificates).
APT_PACKAGES := libzmq3-dev libsqlite3-dev
TEST_APT_PACKAGES := python3-zmq tmux systemd prometheus dpkg-dev openssl strace

.PHONY: all deps test-deps build debug test demo-check fuzz demo bench bench-restart bench-alert bench-agent lint clean install stage deb deb-package

all: build

## deps: install missing system packages for building and running (Debian; needs root or sudo)
deps:
	@bash scripts/apt-install.sh $(APT_PACKAGES)

## test-deps: install missing system packages the tests need; services they bring
##   (prometheus) are not started, and recommended packages (its node exporter) not installed
test-deps:
	@bash scripts/apt-install.sh --no-services $(TEST_APT_PACKAGES)

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

## test: everything CI checks — formatting, unit, component and end-to-end tests, a fuzz
##   smoke run (every target for FUZZ_SMOKE_SECONDS), then what users run: the release
##   build and a headless demo
test: deps test-deps lint
	$(SWIFT) build --build-tests
	VIGIE_BIN_DIR=$(CURDIR)/.build/debug timeout --signal=KILL 1500 $(SWIFT) test --skip-build --parallel
	SWIFT=$(SWIFT) bash scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)
	$(MAKE) --no-print-directory demo-check

## demo-check: `make demo` without a terminal: the release build, the demo's daemon and
##   simulator, and `vigie watch --json` for about a minute; fails unless KPI values
##   arrive and the simulated payment outage raises and resolves its alert
demo-check: build
	@bash scripts/demo.sh --check "$(CONFIG)" "$(DEMO_DIR)-check"

## lint: swift-format (.swift-format: swift-nio's settings), warnings fail
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Benchmarks \
		Fuzz/Package.swift Fuzz/Sources

## demo: build, start vigied with config/vigie.toml, feed it simulated traffic, watch live
demo: build
	@bash scripts/demo.sh "$(CONFIG)" "$(DEMO_DIR)"

## bench: ingest benchmarks (separate package)
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark

## bench-restart: time a restart with 1,000,000+ samples in the WAL since the last checkpoint
bench-restart: build
	@bash Benchmarks/restart.sh 1000000

## fuzz: each libFuzzer target (Fuzz/Package.swift: 8) for FUZZ_SECONDS (default 600) on
##   its corpus; `make fuzz FUZZ_MERGE=merge` then minimizes the findings into Fuzz/Corpus
##   (commit them)
fuzz: deps
	SWIFT=$(SWIFT) bash scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_MERGE)

## bench-alert: push → alert on the feed, idle and beside 50,000 samples/s
bench-alert: build
	@bash Benchmarks/alert-latency.sh 50000 20s

## bench-agent: p99 of `vigie push --agent` with the daemon down
bench-agent: build
	@bash Benchmarks/agent-push.sh 300

clean:
	rm -rf .build $(DEMO_DIR) $(DEMO_DIR)-check

## install: build, then install binaries, units, man pages, completions and the example
##   configs into $(DESTDIR)$(PREFIX) and $(DESTDIR)$(SYSCONFDIR)/vigie (an existing
##   config is never overwritten). Creates no user and enables nothing.
install: build stage
	@echo "installed under $(DESTDIR)$(PREFIX); vigied.service runs as user vigie:"
	@echo "  useradd --system --home-dir /var/lib/vigie --shell /usr/sbin/nologin vigie"

## stage: the install step alone, from $(BIN_DIR) (make stage BIN_DIR=.build/debug DESTDIR=/tmp/x)
stage:
	@set -e; bindir="$(DESTDIR)$(PREFIX)/bin"; share="$(DESTDIR)$(PREFIX)/share"; \
	etc="$(DESTDIR)$(SYSCONFDIR)/vigie"; \
	if [ "$(PREFIX)" = /usr ]; then units="$(DESTDIR)/lib/systemd/system"; \
	else units="$(DESTDIR)$(PREFIX)/lib/systemd/system"; fi; \
	install -d "$$bindir" "$$share/man/man1" "$$share/doc/vigie" "$$units" "$$etc/collectors" \
	  "$$share/bash-completion/completions" "$$share/zsh/vendor-completions" "$$share/fish/vendor_completions.d"; \
	for b in vigied vigie vigie-agent; do install -s -m 755 "$(BIN_DIR)/$$b" "$$bindir/$$b"; \
	  "$(BIN_DIR)/$$b" --experimental-dump-help | python3 scripts/manpage.py "$(VERSION)" > "$$share/man/man1/$$b.1"; \
	  gzip -9nf "$$share/man/man1/$$b.1"; done; \
	"$(BIN_DIR)/vigie" completions bash > "$$share/bash-completion/completions/vigie"; \
	"$(BIN_DIR)/vigie" completions zsh > "$$share/zsh/vendor-completions/_vigie"; \
	"$(BIN_DIR)/vigie" completions fish > "$$share/fish/vendor_completions.d/vigie.fish"; \
	for u in vigied.service vigie-agent.service; do \
	  sed -e "s#/usr/bin/#$(PREFIX)/bin/#g" -e "s#/etc/vigie/#$(SYSCONFDIR)/vigie/#g" "systemd/$$u" > "$$units/$$u"; \
	  chmod 644 "$$units/$$u"; done; \
	for c in vigie.toml agent.toml; do \
	  if [ -e "$$etc/$$c" ]; then echo "kept existing $$etc/$$c (example: config/$$c)"; \
	  else install -m 644 "config/$$c" "$$etc/$$c"; fi; done; \
	for c in config/collectors/*; do [ -e "$$etc/collectors/$${c##*/}" ] || install -m 755 "$$c" "$$etc/collectors/"; done; \
	install -m 644 README.md "$$share/doc/vigie/README.md"; \
	[ ! -d docs ] || install -m 644 docs/*.md "$$share/doc/vigie/"

## deb: build, then $(DEB_DIR)/vigie_$(VERSION)_<arch>.deb with dpkg-deb, Depends from
##   dpkg-shlibdeps (installs dpkg-dev if missing). The package creates the vigie user and
##   enables and starts nothing; an upgrade restarts what runs, removal stops and disables
deb: build
	@$(MAKE) -s deb-package

## deb-package: the packaging step of `make deb` alone, from $(BIN_DIR); prints the .deb's path
deb-package:
	@set -e; bash scripts/apt-install.sh dpkg-dev >&2; \
	root="$(DEB_DIR)/root"; rm -rf "$$root"; mkdir -p "$$root/DEBIAN"; \
	$(MAKE) -s stage DESTDIR="$$root" PREFIX=/usr SYSCONFDIR=/etc BIN_DIR="$(BIN_DIR)" > /dev/null; \
	shlibs=$$(sh packaging/shlibdeps.sh "$$root"); [ -n "$$shlibs" ]; \
	arch=$$(dpkg --print-architecture); size=$$(du -sk "$$root" | cut -f1); \
	sed -e "s/@VERSION@/$(VERSION)/" -e "s/@ARCH@/$$arch/" -e "s/@SIZE@/$$size/" \
	  -e "s/\$${shlibs:Depends}/$$shlibs/" packaging/debian/control > "$$root/DEBIAN/control"; \
	(cd "$$root" && find etc -type f | LC_ALL=C sort | sed 's|^|/|') > "$$root/DEBIAN/conffiles"; \
	install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$$root/DEBIAN/"; \
	dpkg-deb --root-owner-group -Z$(DEB_COMPRESSION) --build "$$root" "$(DEB_DIR)/vigie_$(VERSION)_$$arch.deb" > /dev/null; \
	echo "$(DEB_DIR)/vigie_$(VERSION)_$$arch.deb"
