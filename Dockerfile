# albmtls image: the static binary and nothing else. This machine class has
# no image registry, so no base image can be pulled: build the binary on the
# host first (`make docker` does both steps):
#
#   CGO_ENABLED=0 go build -trimpath -o bin/albmtls ./cmd/albmtls
#   docker build -t albmtls:dev .
#
# The binary needs no CA certificates or time zone data at run time.
FROM scratch
COPY bin/albmtls /albmtls
# The admin endpoint, HTTP and HTTPS listeners of the example configs.
EXPOSE 8080 8443 9090
ENTRYPOINT ["/albmtls"]
CMD ["serve", "-c", "/etc/albmtls/albmtls.yaml"]
