# syntax=docker/dockerfile:1
#
# The Hookline server as a container image: a static binary (the SQLite
# driver is pure Go, so no cgo) on distroless/static, running as the
# unprivileged user 65532. Build and run:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t hookline .
#   docker run -p 8080:8080 -v hookline-data:/var/lib/hookline hookline
#
# The data dir /var/lib/hookline is a volume: the SQLite database and the
# encryption key live there. deploy/ has a compose file for several nodes
# on PostgreSQL, a systemd unit and a Kubernetes example; docs/operations.md
# explains them.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a change to the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The same command deploy/deploy_test.go runs and checks (a static binary
# that serves and passes its own health check).
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/hookline/hookline/internal/buildinfo.version=${VERSION}" -o /out/hookline ./cmd/hookline
# The data dir, owned by the user the server runs as, for the volume to
# start from.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# distroless/static: CA certificates (deliveries to https endpoints),
# tzdata and /etc/passwd with the nonroot user; no shell, no curl.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookline /usr/local/bin/hookline
COPY --from=build --chown=65532:65532 /out/data /var/lib/hookline
ENV HOOKLINE_ADDR=0.0.0.0:8080 \
    HOOKLINE_DATA_DIR=/var/lib/hookline \
    HOOKLINE_LOG_FORMAT=json
USER 65532:65532
EXPOSE 8080
VOLUME ["/var/lib/hookline"]
# The binary probes itself: GET /healthz on 127.0.0.1 (https when TLS is
# configured), exit 0 or 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/hookline", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/hookline"]
CMD ["serve"]
