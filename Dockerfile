# syntax=docker/dockerfile:1
#
# The csi-driver image: one image for the controller and the node plugin (--mode picks).
#
#   docker build -t nfs-health-csi:0.1.0 .
#
# Build stage: all dependencies, generate the proto types, compile TypeScript.
# Runtime stage: production dependencies only, the compiled program, the proto, and the
# system tools the driver runs (mount/umount, mount.nfs from nfs-common, tar, tini).
# The image runs as an unprivileged user by default; the node plugin (and an NFS/EFS
# controller, which mounts the share) are run as root and privileged by the manifests,
# because mounting needs CAP_SYS_ADMIN in the host's mount namespace.
# efs-utils (mount -t efs, TLS, access points) is not in Debian: to use it, build an image
# FROM this one that installs amazon-efs-utils; without it EFS is mounted as plain NFSv4.1.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY bin ./bin
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="nfs-health-csi-driver" \
      org.opencontainers.image.description="CSI driver for NFSv4 and AWS EFS with an embedded volume health monitor" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends nfs-common mount tar gzip tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 csi \
 && useradd --system --uid 10001 --gid csi --home-dir /nonexistent --shell /usr/sbin/nologin csi
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY bin ./bin
COPY proto ./proto
USER 10001:10001
EXPOSE 9910
# tini reaps mount helpers orphaned by a killed mount and forwards SIGTERM to the driver.
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/csi-driver"]
CMD ["--help"]
