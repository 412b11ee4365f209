# Controller and ingester (`esweep controller`, `esweep ingest`): no GPU, so no tfjs-node-gpu.
# They run the CLI bundle (`npm run build`, orchestrator/cli/bundle.ts), not the sources through tsx:
# less memory and a faster start. Build from the repository root:
#   docker build -f infra/images/orchestrator.Dockerfile -t REGISTRY/esweep:TAG .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
RUN npm ci --omit=optional
COPY bin ./bin
COPY worker ./worker
COPY orchestrator ./orchestrator
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the root `prepare` would generate a Prisma client that the bundle already holds,
# and the dependencies' scripts fetch engines and plugins that nothing here runs.
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force
# The schema and migrations, which `--migrate` and `esweep db migrate` apply.
COPY prisma ./prisma
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/esweep.mjs /usr/local/bin/esweep
# Runs with a read-only root filesystem: whatever writes under HOME goes to /tmp (an emptyDir in the pod).
# One malloc arena: glibc gives each of Node's threads its own, and their fragments were a third of
# the controller's peak RSS (bench:controller, which runs it with this ENV: 206–224 MB vs 246–289 MB).
ENV NODE_ENV=production HOME=/tmp MALLOC_ARENA_MAX=1
USER node
ENTRYPOINT ["esweep"]
CMD ["--help"]
