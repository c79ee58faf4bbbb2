# syntax=docker/dockerfile:1
# One Dockerfile for both services; pick one with --target:
#   docker build --target users  -t users-orders/users:0.1.0 .
#   docker build --target orders -t users-orders/orders:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# Build both apps with the full toolchain.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY nest-cli.json tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# Production dependencies only: the bundles keep node_modules packages external.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
# The image's own unprivileged user, not root.
USER node

FROM runtime AS users
COPY --from=build --chown=node:node /app/dist/apps/users ./dist/apps/users
ENV USERS_PORT=5001
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.USERS_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/users/main.js"]

FROM runtime AS orders
COPY --from=build --chown=node:node /app/dist/apps/orders ./dist/apps/orders
ENV ORDERS_PORT=5002
EXPOSE 5002
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.ORDERS_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/orders/main.js"]
