# The trial worker: `esweep train --trial FILE.json` on a GPU. @tensorflow/tfjs-node-gpu 4.22 is built
# against libtensorflow 2.9 (CUDA 11.2, cuDNN 8), so the base is that CUDA runtime; Node comes from
# the official image. It runs the CLI bundle (`npm run build`, orchestrator/cli/bundle.ts): no tsx
# compile at each pod's start. Build from the repository root:
#   docker build -f infra/images/worker.Dockerfile -t REGISTRY/esweep-worker:TAG .
FROM node:20-bookworm-slim AS node

FROM node AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
RUN npm ci --omit=optional
COPY bin ./bin
COPY worker ./worker
COPY orchestrator ./orchestrator
RUN npm run build

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Optional dependencies stay, but of all install scripts only tfjs-node-gpu's runs: it downloads
# libtensorflow (GPU) and the binding. The root `prepare` would generate a Prisma client the bundle
# already holds (and `train` never opens the database). tfjs-node (CPU) stays unbuilt:
# libtensorflow's GPU build runs on the CPU too.
RUN npm ci --omit=dev --include=optional --ignore-scripts \
 && npm rebuild @tensorflow/tfjs-node-gpu \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/esweep.mjs /usr/local/bin/esweep
ENV NODE_ENV=production ESWEEP_DATA_DIR=/data HOME=/tmp
USER 1000:1000
ENTRYPOINT ["esweep"]
CMD ["train", "--help"]
