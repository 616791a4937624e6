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

.PHONY: all build test test-core test-docker vet fmt bench docker clean

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

test-docker:
	@if [ -f $(DOCKER_MODULE)/go.mod ]; then cd $(DOCKER_MODULE) && $(GO) test -count=1 ./...; fi

## bench: Go benchmarks of the hot paths (the proxy comparison is added by its issue)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## docker: the FROM scratch image, from a binary built on the host
docker: build
	docker build -t albmtls:dev .

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
