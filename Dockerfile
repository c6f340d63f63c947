# syntax=docker/dockerfile:1
# The todo image: one static binary on an empty base, running as a non-root user.
#   docker build -t todo .
#   docker run -p 8000:8000 -v todo-data:/data todo
# See docs/deploy.md for what the image holds and how big it is.

ARG RUST_VERSION=1.95

# ---- build: musl, so the binary is static and needs no libc in the runtime image
FROM rust:${RUST_VERSION}-alpine AS build
# Versions come with the pinned Rust base image; pinning each Alpine package would break
# the build every time Alpine moves them.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev gcc g++ make perl ca-certificates
WORKDIR /src

# Dependencies first, in their own layer: stub sources let `cargo build` compile every
# dependency; this layer is reused until a Cargo.toml or Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
# Build settings (the bundled SQLite's compile flags).
COPY .cargo .cargo
COPY crates/todo/Cargo.toml crates/todo/
COPY crates/todo-core/Cargo.toml crates/todo-core/
COPY crates/todo-server/Cargo.toml crates/todo-server/
COPY crates/todo-store-sql/Cargo.toml crates/todo-store-sql/
COPY crates/todo-store-sqlite/Cargo.toml crates/todo-store-sqlite/
COPY crates/todo-store-postgres/Cargo.toml crates/todo-store-postgres/
COPY crates/todo-testkit/Cargo.toml crates/todo-testkit/
RUN for crate in todo-core todo-server todo-store-sql todo-store-sqlite todo-store-postgres todo-testkit; do \
        mkdir -p "crates/$crate/src" && touch "crates/$crate/src/lib.rs"; \
    done \
    && mkdir -p crates/todo/src && echo 'fn main() {}' > crates/todo/src/main.rs \
    && cargo build --release --locked -p todo \
    && rm -rf crates/*/src

# Then the workspace itself. Touching the sources makes them newer than the stubs.
COPY crates crates
RUN find crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p todo \
    && mkdir -p /rootfs/data /rootfs/tmp /rootfs/etc/ssl/certs \
    && cp target/release/todo /rootfs/todo \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/

# ---- runtime: the binary, CA certificates, a data volume and a /tmp; nothing else
FROM scratch
LABEL org.opencontainers.image.title="todo" \
      org.opencontainers.image.description="A whole task-management system in one binary" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://example.invalid/todo"
COPY --from=build /rootfs/todo /todo
COPY --from=build /rootfs/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=65532:65532 /rootfs/data /data
COPY --from=build --chmod=1777 /rootfs/tmp /tmp
USER 65532:65532
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:///data/todo.db \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/todo", "healthcheck"]
ENTRYPOINT ["/todo"]
CMD ["serve"]
