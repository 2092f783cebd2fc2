# Heliograph agent image: built on Debian 12, run from an empty base holding
# only the binaries, the shared libraries ldd finds for them, the dynamic
# loader, CA certificates and a non-root user (scripts/assemble-rootfs.sh,
# which the tests also run, so the tested file set is the shipped one).
#
# The image name and tag live in the file IMAGE (also the default of
# `agentctl install-stack --agent-image` and what k8s-manifests reference).
# Multi-arch (amd64 nodes, and arm64 for t4g), as scripts/ecr-push.sh and
# .github/workflows/release.yml build it:
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION="$(sed 's/.*://' IMAGE)" -t REGISTRY/heliograph/agent:TAG --push .
# One platform, into the local engine:
#   docker build -t "$(cat IMAGE)" --build-arg VERSION="$(sed 's/.*://' IMAGE)" .
# The Debian packages of both architectures (the release's .deb files):
#   docker buildx build --platform linux/amd64,linux/arm64 --target deb --output type=local,dest=dist .
#
# The build stage runs on the target platform (its FROM has no
# --platform=$BUILDPLATFORM), so on a host of the other architecture BuildKit
# runs it under QEMU emulation (binfmt_misc): slower (minutes, not seconds),
# but the compiler, ldd, ldconfig and the loader assemble-rootfs.sh asks are
# the target's own, exactly as in the tested native build. Cross-compiling
# would be faster but needs a second, untested way to find the target's
# libraries (ldd cannot run a foreign binary) and a cross toolchain per arch.
FROM debian:12-slim AS build
# Set by BuildKit per platform (amd64, arm64); empty with the legacy builder.
ARG TARGETARCH
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates binutils \
      libuv1-dev libcurl4-openssl-dev libyaml-dev zlib1g-dev libyajl-dev libhttp-parser-dev \
      libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libssl-dev libdragonbox-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target agent agentctl \
 && scripts/assemble-rootfs.sh /build /rootfs "$TARGETARCH"

# The Debian package of the same build (cpack, as tests/integration/test_deb_package.sh
# checks it); only built when asked for with --target deb. CPack's shlibdeps
# step runs file(1), which the build stage does not need.
FROM build AS deb-build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends file \
 && rm -rf /var/lib/apt/lists/* \
 && cmake --build /build -j"$(nproc)" --target man \
 && cd /build && cpack -G DEB -B /deb
FROM scratch AS deb
COPY --from=deb-build /deb/*.deb /

# The runtime image: the last stage, so the default target.
FROM scratch
ARG VERSION=unknown
LABEL org.opencontainers.image.title="heliograph-agent" \
      org.opencontainers.image.description="Small metrics agent for small Kubernetes nodes (Telegraf-compatible schemas, InfluxDB line protocol)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /rootfs/ /
COPY --from=build --chown=65534:65534 /rootfs/var/lib/heliograph/ /var/lib/heliograph/
USER 65534:65534
ENTRYPOINT ["/usr/bin/agent"]
CMD ["--config", "/etc/heliograph/heliograph.yaml"]
