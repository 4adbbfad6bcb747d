# syntax=docker/dockerfile:1
# evmesh broker image. Build: docker build -t evmesh .
# Run:   docker run -p 10000:10000 -p 10105:10105 -p 10205:10205 -p 10106:10106 -p 19090:19090 \
#          -v evmesh-data:/var/lib/evmesh evmesh

# --- build: TypeScript → dist/, native addon → native/build/Release (compilers are in this image)
FROM node:20-bookworm AS build
WORKDIR /app
COPY . .
# `npm ci` runs the project's `prepare` (scripts/build.mjs): tsc, then node-gyp against this
# node's own headers (/usr/local/include/node), so nothing is downloaded but the packages.
RUN --mount=type=cache,target=/root/.npm \
    npm ci \
 && test -f native/build/Release/evmesh_native.node \
 && npm prune --omit=dev \
 && mkdir -p proto

# --- runtime
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/build/Release/evmesh_native.node ./native/build/Release/
COPY --from=build /app/proto ./proto
RUN mkdir -p /var/lib/evmesh && chown node:node /var/lib/evmesh
USER node
VOLUME ["/var/lib/evmesh"]
# TCP, HTTP, gRPC, admin, metrics
EXPOSE 10000 10105 10205 10106 19090
# No curl in the slim image: node itself asks the admin API.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:10106/health', {timeout: 2000}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
CMD ["node", "dist/src/cli/main.js", "start", "--data-dir", "/var/lib/evmesh"]
