# syntax=docker/dockerfile:1
# The csi-cert-driver image for Linux: one image, every role (`node`, `issuer`, `approver`).
#   docker build -t csi-cert-driver:dev .
#   docker run --rm csi-cert-driver:dev issuer --help
# The chart runs the node role as root in a privileged container (it mounts tmpfs and bind mounts
# into kubelet's pod directory); every other role runs as the image's non-root user.
ARG NODE_VERSION=22.23.3

# Builds dist/ (esbuild bundle of the server) from the sources.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed to bundle (esbuild ships its binary as a package).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.base.json ./
COPY scripts/build.mjs scripts/node-snapshot-bundle.mjs scripts/
COPY proto proto
COPY server server
COPY platform platform
COPY dashboard dashboard
# The image's node, not node_modules/.bin/node (the pinned-Node dev dependency is not installed).
RUN node scripts/build.mjs

# The node and issuer roles' startup snapshots (docs/adr/0026-node-role-from-a-startup-snapshot.md),
# made by the node binary of the image that runs them (this base, as the final stage's):
# dist/<role>-snapshot.blob and the key bin/csi-cert-driver checks before using one. The snapshot's script needs no node_modules; it
# reads the .proto files of proto/.
FROM node:${NODE_VERSION}-bookworm-slim AS snapshot
WORKDIR /app
COPY bin/csi-cert-driver bin/csi-cert-driver
COPY proto proto
COPY --from=build /src/dist dist
RUN ["bin/csi-cert-driver", "--build-snapshot"]

# Production dependencies only: koffi (prebuilt, FFI for mount(2)), grpc-js, NestJS, ...
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="csi-cert-driver" \
      org.opencontainers.image.description="CSI driver giving every pod its own short-lived X.509 key pair" \
      org.opencontainers.image.licenses="Apache-2.0"
# Caps V8's young generation (2 MiB per semi-space): ~30 MiB less peak RSS on a busy node
# (docs/benchmarks.md, docs/operations.md). Set NODE_OPTIONS in the pod to change it. No
# --enable-source-maps (~8 MiB per process); docs/operations.md says how to turn it on to debug.
# MALLOC_ARENA_MAX=2: glibc makes up to 8 malloc arenas per core, one per thread that allocates, and
# each keeps what it freed; two arenas cut the node role's RSS by ~15 MiB at start and after bursts
# (ADR 15). The node role also gives freed memory back after busy periods (MEMORY_TRIM_INTERVAL).
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=2 MALLOC_ARENA_MAX=2
WORKDIR /app
# mount (util-linux) and stat (coreutils), both in the base image, are used by the node role's
# fallback mounter and by the chart's state-tmpfs init container.
COPY --from=deps /app/node_modules node_modules
COPY --from=snapshot /app/dist dist
COPY bin/csi-cert-driver bin/csi-cert-driver
COPY proto proto
COPY package.json package.json
USER 1000:1000
# bin/csi-cert-driver runs dist/main.mjs, or the node or issuer role from its dist/<role>-snapshot.blob (ADR 26).
ENTRYPOINT ["/app/bin/csi-cert-driver"]
CMD ["--help"]
