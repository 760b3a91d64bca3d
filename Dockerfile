# edumap — multi-stage image: build with the toolchain, run on a slim base as a non-root user.
#   docker build -t edumap .
#   docker run -p 3000:3000 -v edumap-data:/data -e EDUMAP_ADMIN_KEYS=... -e EDUMAP_HASH_KEY=... edumap

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native addon here.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json openapi.yaml ./
COPY src ./src
COPY scripts ./scripts
COPY web ./web
COPY taxonomy ./taxonomy
COPY data ./data
RUN npm run build && npm run build:web && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    EDUMAP_DB=/data/edumap.db \
    EDUMAP_DRAIN_DELAY_MS=5000
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/public ./public
COPY --chown=root:root package.json openapi.yaml ./
COPY --chown=root:root taxonomy ./taxonomy
COPY --chown=root:root data ./data
# The database lives on a volume owned by the unprivileged user; the code stays read-only to it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
