# The IPAM service. Build: docker build -t ipam . ; run with NATS_URL pointing at a JetStream server.
#
# No install script of any package runs (npm ci --ignore-scripts), and the image that runs carries the
# compiled service (dist/: the service, the CLI and the web console's bundle), its production
# dependencies and Node.js: no TypeScript, no build tools, no npm.

# 1. build: every dependency, the TypeScript build and the console bundle (dist/console)
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY bench bench
RUN npm run build && test -f dist/apps/ipam/src/main.js && test -f dist/console/index.html

# 2. production dependencies only, installed apart; TypeScript is an optional peer of @nestjs/swagger
#    (its build-time plugin) that npm keeps: removed, the service never loads it
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
 && test ! -e node_modules/typescript

# 3. what runs
FROM node:22-bookworm-slim
ENV NODE_ENV=production
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
USER node
EXPOSE 8080
# alive: /healthz answers from the start, NATS reached or not (/readyz says whether it decides)
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/ipam/src/main.js"]
