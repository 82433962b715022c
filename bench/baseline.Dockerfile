# The baseline of `cargo xtask bench`: the plain multi-stage Dockerfile of examples/hello-world,
# the way most Rust services are containerized. Its build context is the very source tar that
# `cargo xtask image` uploads to the app stage (the repository with the app at WORKSPACE and the
# xtask-s2i package its build.rs uses at the root, `vendor/` and the source replacement in the
# app's `.cargo/config.toml`), unpacked by the bench, because containers here cannot reach
# crates.io. See docs/BENCHMARKS.md.
ARG BASE=docker.io/library/rust:1-slim

FROM ${BASE} AS build
ARG WORKSPACE=.
WORKDIR /src
COPY . .
WORKDIR /src/${WORKSPACE}
ENV RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=/src/target
RUN cargo build --release --offline --locked --target x86_64-unknown-linux-gnu --bin hello-world

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-gnu/release/hello-world /hello-world
USER 65532
ENTRYPOINT ["/hello-world"]
