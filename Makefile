# albmtls — build, test and benchmark targets. `make test` is the README's
# test command and what .ci/run calls.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/albmtls
# Docker code lives in its own module so the core module stays lean.
DOCKER_MODULE := docker

# testcontainers' reaper image cannot be pulled on machines without a registry.
export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: all build test test-core test-race test-docker vet fmt bench docker clean

all: build

## build: static binary in bin/albmtls (CGO disabled, so it runs FROM scratch)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/albmtls

## vet: gofmt and go vet over every module
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if [ -f $(DOCKER_MODULE)/go.mod ]; then cd $(DOCKER_MODULE) && $(GO) vet ./...; fi

## test: vet, then every test of the core module and the Docker module
test: vet test-core test-docker

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
bench: bench-proxies bench-go bench-compare

.PHONY: bench-proxies bench-go bench-compare

# Packages whose benchmarks bench-go runs: verification, CRLs, header
# encoding, log lines and their writing, forwarding, and the emulator end to
# end (handshakes and keep-alive requests against their baselines).
BENCH_GO_PKGS  ?= ./emulator/verify ./emulator/truststore ./emulator/albheader ./emulator/certfmt \
                  ./emulator/connlog ./emulator/accesslog ./emulator/logdelivery ./emulator/targetgroup
BENCH_GO_TIME  ?= 500ms
# Flags of albmtls bench compare, e.g. BENCH_FLAGS="--rounds 5 -d 10s".
BENCH_FLAGS    ?=

## bench-proxies: install nginx and HAProxy with apt-get when missing
bench-proxies:
	@bash bench/install-proxies.sh

## bench-go: the Go benchmarks, with -benchmem
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCH_GO_TIME) $(BENCH_GO_PKGS)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./emulator

## bench-compare: albmtls against nginx, HAProxy and a bare crypto/tls server
bench-compare: build
	$(BIN) bench compare $(BENCH_FLAGS)

## soak: the fault and load suite against bin/albmtls serve (loopback only,
## about 2 minutes): PASS/FAIL per phase and a Markdown table. See RELIABILITY.md.
# Flags of albmtls bench soak, e.g. SOAK_FLAGS="--phases idle,reload -o soak.md".
SOAK_FLAGS     ?=

.PHONY: soak
soak: build
	@ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	echo "soak: RLIMIT_NOFILE $$(ulimit -n)"; \
	$(BIN) bench soak $(SOAK_FLAGS)

## docker: the FROM scratch image, from a binary built on the host
docker: build
	docker build -t albmtls:dev .

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
