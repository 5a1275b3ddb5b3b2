# syntax=docker/dockerfile:1
#
# Heirloom in one image: the `heirloom` binary and its compiled site, on slim Debian,
# running as an unprivileged user with its data folder at /data.
#
#   docker build -t heirloom .
#   docker run -p 3000:3000 -v heirloom-data:/data heirloom
#
# The build runs `make build`, the same target CI runs, so every tool comes from the
# pins in scripts/tools.sh, Cargo.lock and the package-lock.json files (ADR 0004).
# Build arguments: WITH_FFMPEG=true and WITH_CLAMAV=true add those programs for media
# processing and virus scanning; VERSION, REVISION and SOURCE fill the OCI labels.
# docs/ops/docker.md has the rest.

ARG DEBIAN_RELEASE=bookworm
# The toolchain this project builds with (`rustc --version` on the build machines).
ARG RUST_VERSION=1.95.0
# README: Node 20.19 or newer.
ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# Node and npm for the editor bundle and for wasm-opt (npm binaryen): Debian's nodejs
# is older than the project needs, so they come from the official Node image.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
WORKDIR /src
# cargo-leptos and the wasm-bindgen CLI take long to compile and change only with these
# two files, so they get a layer of their own; their build folder is cached too, so a
# Cargo.lock change that keeps the wasm-bindgen version rebuilds nothing.
COPY scripts/tools.sh scripts/tools.sh
COPY Cargo.lock ./
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/cache/tools-target \
    CARGO_TARGET_DIR=/cache/tools-target scripts/tools.sh rust
COPY . .
# `make build` installs the npm packages, bundles the editor and runs
# `cargo leptos build --release`; the binary lands in CARGO_TARGET_DIR, the site in target/site.
# The gzip twins of the static files are made here: the runtime's site is read-only.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/root/.npm \
    --mount=type=cache,target=/cache/target \
    CARGO_TARGET_DIR=/cache/target make build \
    && install -D -m 0755 /cache/target/release/heirloom /out/heirloom \
    && cp -r target/site /out/site \
    && find /out/site/pkg /out/site/editor -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) \
       -exec gzip -9 -k -f {} +

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_RELEASE
ARG WITH_FFMPEG=false
ARG WITH_CLAMAV=false
ARG VERSION=0.1.0
ARG REVISION=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="Heirloom" \
      org.opencontainers.image.description="A self-hosted home for your family's stories, photos and recordings." \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="debian:${DEBIAN_RELEASE}-slim"
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# ca-certificates: TLS to OpenID providers and, later, S3. curl: the health check
# (`heirloom` has no health subcommand). ffmpeg and clamav only when asked for.
RUN packages=(ca-certificates curl) \
    && if [ "${WITH_FFMPEG}" = true ]; then packages+=(ffmpeg); fi \
    && if [ "${WITH_CLAMAV}" = true ]; then packages+=(clamav); fi \
    && apt-get update \
    && apt-get install -y --no-install-recommends "${packages[@]}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 heirloom \
    && useradd --system --uid 10001 --gid heirloom --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin heirloom \
    && mkdir -p /data \
    && chown heirloom:heirloom /data
COPY --from=builder /out/heirloom /usr/local/bin/heirloom
COPY --from=builder /out/site /app/site
# As `make run` sets them, but listening on every interface of the container. The data
# folder (SQLite database, media, search index) is the volume; everything else is
# read-only and may run on a read-only root filesystem with a tmpfs at /tmp.
ENV LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_ENV=PROD \
    HEIRLOOM_DATA_DIR=/data
# heirloom.toml, if used, is read from here (or from the file named by HEIRLOOM_CONFIG).
WORKDIR /app
VOLUME ["/data"]
EXPOSE 3000
USER 10001:10001
# /healthz on the port LEPTOS_SITE_ADDR names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/bin/bash", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${LEPTOS_SITE_ADDR##*:}/healthz\""]
# SIGTERM (docker stop) lets in-flight requests finish before the process exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/heirloom"]
CMD ["serve"]
