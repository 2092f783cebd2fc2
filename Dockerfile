# Heliograph agent image: built on Debian 12, run from an empty base holding
# only the binaries, the shared libraries ldd finds for them, the dynamic
# loader, CA certificates and a non-root user (scripts/assemble-rootfs.sh,
# which the tests also run, so the tested file set is the shipped one).
#
# The image name and tag live in the file IMAGE (also the default of
# `agentctl install-stack --agent-image` and what k8s-manifests reference):
#   docker build -t "$(cat IMAGE)" --build-arg VERSION="$(sed 's/.*://' IMAGE)" .
FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates binutils \
      libuv1-dev libcurl4-openssl-dev libyaml-dev zlib1g-dev libyajl-dev libhttp-parser-dev \
      libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target agent agentctl \
 && scripts/assemble-rootfs.sh /build /rootfs

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
