# Controller and ingester (`esweep controller`, `esweep ingest`): no GPU, so no tfjs-node-gpu.
# Build from the repository root:
#   docker build -f infra/images/orchestrator.Dockerfile -t REGISTRY/esweep:TAG .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
RUN npm ci --omit=dev --omit=optional && npm cache clean --force
COPY bin ./bin
COPY worker ./worker
COPY orchestrator ./orchestrator
RUN ln -s /app/bin/esweep.js /usr/local/bin/esweep
# Runs with a read-only root filesystem: tsx's compile cache goes to /tmp (an emptyDir in the pod).
ENV NODE_ENV=production HOME=/tmp
USER node
ENTRYPOINT ["esweep"]
CMD ["--help"]
