# albmtls — build, test and benchmark targets. `make test` is the README's
# test command and what .ci/run calls.

GO       ?= go
# The core's tags are vX.Y.Z; docker/vX.Y.Z tags the nested module and is
# never the binary's version. The docker module's BuildImage stamps the same
# (docker/albmtls/image.go, checkoutVersion; a test keeps them in step).
VERSION  ?= $(shell git describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/albmtls
# Docker code lives in its own module so the core module stays lean.
DOCKER_MODULE := docker

# testcontainers' reaper image cannot be pulled on machines without a registry.
export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: all help version build test test-core test-race test-docker vet lint fmt bench docker clean

all: build

## help: list the targets with what they do
help:
	@awk '/^## [a-z-]+:/ { sub(/^## /, ""); i = index($$0, ":"); printf "  %-14s %s\n", substr($$0, 1, i-1), substr($$0, i+2); next } \
	     /^## / { sub(/^## /, ""); printf "  %-14s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## build: static binary in bin/albmtls (CGO disabled, so it runs FROM scratch)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/albmtls

## version: the version make build and make docker stamp into the binary
version:
	@echo $(VERSION)

## vet: gofmt and go vet over every module
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if [ -f $(DOCKER_MODULE)/go.mod ]; then cd $(DOCKER_MODULE) && $(GO) vet ./...; fi

## lint: staticcheck and deadcode (pinned as tool dependencies in go.mod)
lint:
	$(GO) tool staticcheck ./...
	@out=$$($(GO) tool deadcode -test ./...); \
	if [ -n "$$out" ]; then echo "deadcode: functions no program or test reaches (delete them):"; echo "$$out"; exit 1; fi

## test: vet and lint, then every test of the core module and the Docker module
test: vet lint test-core test-docker

test-core:
	$(GO) test -count=1 ./...

## test-race: the core module's tests under the race detector (needs cgo and a C compiler)
test-race:
	$(GO) test -race -count=1 ./...

test-docker:
	@if [ -f $(DOCKER_MODULE)/go.mod ]; then cd $(DOCKER_MODULE) && $(GO) test -count=1 ./...; fi

## bench: Go benchmarks of the hot paths and of the emulator end to end, then
## the comparison with nginx and HAProxy (installed from Debian packages when
## missing): a table of medians and ratios. See BENCHMARKS.md.
bench: bench-proxies bench-go bench-allocs bench-compare

.PHONY: bench-proxies bench-go bench-allocs bench-compare

# Packages whose benchmarks bench-go runs: verification, CRLs, header
# encoding, log lines and their writing, forwarding, and the emulator end to
# end (handshakes and keep-alive requests against their baselines).
BENCH_GO_PKGS  ?= ./emulator/verify ./emulator/truststore ./emulator/albheader ./emulator/certfmt \
                  ./emulator/connlog ./emulator/accesslog ./emulator/logdelivery ./emulator/targetgroup
BENCH_GO_TIME  ?= 500ms
# Flags of albmtls bench compare, e.g. BENCH_FLAGS="--rounds 7 -d 10s". Five
# rounds by default: issue 17's targets are medians over at least five.
BENCH_FLAGS    ?= --rounds 5

## bench-proxies: install nginx and HAProxy with apt-get when missing
bench-proxies:
	@bash bench/install-proxies.sh

## bench-go: the Go benchmarks, with -benchmem
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCH_GO_TIME) $(BENCH_GO_PKGS)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./emulator

## bench-allocs: the emulator's own allocations per proxied kept-alive request
bench-allocs:
	@GO=$(GO) bash bench/emulator-allocs.sh

## bench-compare: albmtls against nginx, HAProxy and a bare crypto/tls server
bench-compare: build
	$(BIN) bench compare $(BENCH_FLAGS)

.PHONY: fuzz

# Every fuzz target, as package:Name; make fuzz runs them one after the
# other (the fuzzer uses every core). Plain `go test` runs their seed
# corpora (testdata/fuzz/Name/) as ordinary tests. See docs/fuzzing.md.
FUZZ_TARGETS ?= ./emulator/config:FuzzParse ./emulator/config:FuzzParseEdit \
                ./backend:FuzzInspect ./backend:FuzzInspectRaw \
                ./emulator:FuzzFrontEnd ./emulator/admin:FuzzAdminRequest ./emulator/admin:FuzzParseIDs \
                ./emulator/truststore:FuzzParseCRL ./emulator/truststore:FuzzCheckBundle \
                ./emulator/certfmt:FuzzDN ./emulator/certfmt:FuzzPEMURL \
                ./emulator/albheader:FuzzTraceValue ./pki:FuzzConvertCRL \
                ./emulator/listener:FuzzHeaderOrder ./emulator/desync:FuzzClassify \
                ./emulator/lambdatarget:FuzzResponseDocument ./emulator/lambdatarget:FuzzEvent \
                ./emulator/http1:FuzzPlainTarget
FUZZTIME         ?= 20s
# Bounds the minimisation of each new input (go test's default is 60s,
# which can eat a whole FUZZTIME; the targets keep inputs small anyway).
FUZZMINIMIZETIME ?= 5s

## fuzz: every fuzz target for FUZZTIME each (default 20s), then execs/sec per target
fuzz:
	@sum=$$(mktemp); trap 'rm -f $$sum $$sum.log' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg)"; \
		{ $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg 2>&1; \
		  echo "rc=$$?"; } | tee $$sum.log; \
		grep '^fuzz: elapsed: [0-9]*s, execs' $$sum.log | tail -1 | \
		  sed -E 's/^fuzz: elapsed: ([0-9]+)s, execs: ([0-9]+) .*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 \2 \3 \4/' | \
		  awk -v n=$$name '{ printf "%-18s %9d execs %7.0f/sec  %4d new interesting (corpus %d)\n", n, $$2, $$2/($$1>0?$$1:1), $$3, $$4 }' >> $$sum; \
		if grep -q 'Failing input written to' $$sum.log; then \
			echo "$$name FAILED: the failing input is under $$pkg/testdata/fuzz/$$name/" >> $$sum; fail=1; \
		elif grep -q '^rc=0$$' $$sum.log; then :; \
		elif grep -q '^    context deadline exceeded$$' $$sum.log; then \
			echo "$$name: go's spurious 'context deadline exceeded' at the end of FUZZTIME (golang/go#75804, fixed in Go 1.27), no failing input: not a failure" >> $$sum; \
		else echo "$$name FAILED (see its output above)" >> $$sum; fail=1; fi; \
	done; \
	echo; echo "== make fuzz, FUZZTIME=$(FUZZTIME) per target"; cat $$sum; exit $${fail:-0}

## soak: the fault and load suite against bin/albmtls serve (loopback only,
## about 2 minutes): PASS/FAIL per phase and a Markdown table. See RELIABILITY.md.
# Flags of albmtls bench soak, e.g. SOAK_FLAGS="--phases idle,reload -o soak.md".
SOAK_FLAGS     ?=

.PHONY: soak
soak: build
	@ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	echo "soak: RLIMIT_NOFILE $$(ulimit -n)"; \
	$(BIN) bench soak $(SOAK_FLAGS)

## docker: the FROM scratch image, from a binary built on the host (same
## version and flags as the docker module's BuildImage)
docker: build
	docker build -t albmtls:dev .

## fmt: gofmt every Go file
fmt:
	gofmt -w $$(git ls-files '*.go')

## clean: remove bin/
clean:
	rm -rf bin
