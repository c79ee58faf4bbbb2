# syntax=docker/dockerfile:1
# One Dockerfile for both services and the PgBouncer in front of their database; pick one with
# --target:
#   docker build --target users     -t users-orders/users:0.1.0 .
#   docker build --target orders    -t users-orders/orders:0.1.0 .
#   docker build --target pgbouncer -t users-orders/pgbouncer:0.1.0 .
# With podman, add --format docker: the default OCI format drops the HEALTHCHECK.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG DEBIAN_IMAGE=debian:bookworm-slim

# Both apps built as `npm run build` builds them outside an image: same sources, same rspack
# configuration, same Node check first (test/image/build-stage.e2e-spec.ts proves the bundles are
# identical, and names any file the build reads that this stage lacks).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY nest-cli.json tsconfig.json rspack.config.js ./
COPY scripts ./scripts
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# The bundles carry their dependencies. What they still load from node_modules at run time (the
# packages rspack.config.js leaves external, and the few that bundled code requires itself) and
# what those load in turn stay; every other package, and the files Node never reads, go.
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY rspack.config.js ./
COPY scripts/runtime-deps.cjs ./scripts/
COPY --from=build /app/dist ./dist
RUN node scripts/runtime-deps.cjs prune

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The code stays root's: the app's own user can read it, not change it.
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY package.json ./
# The image's own unprivileged user, not root.
USER node

# One target per service of nest-cli.json, its bundle and port, on the runtime above.
# >>> render:deploy targets: written by npm run render:deploy from nest-cli.json
FROM runtime AS users
COPY --from=build /app/dist/apps/users ./dist/apps/users
ENV USERS_PORT=5001
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.USERS_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/users/main.js"]

FROM runtime AS orders
COPY --from=build /app/dist/apps/orders ./dist/apps/orders
ENV ORDERS_PORT=5002
EXPOSE 5002
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.ORDERS_PORT + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/orders/main.js"]
# <<< render:deploy targets

# PgBouncer in transaction pooling mode between the services and PostgreSQL (compose.yaml,
# deploy/k8s/pgbouncer.yaml): Debian's package, run as the postgres user it comes with. Its
# configuration is not baked in: compose and the manifests mount /etc/pgbouncer/pgbouncer.ini
# (over Debian's sample) and give it the userlist that file names. That pgbouncer.ini has it
# write no file (no pid file, log or Unix socket), so the root file system can be read-only.
FROM ${DEBIAN_IMAGE} AS pgbouncer
RUN apt-get update \
  && apt-get install -y --no-install-recommends pgbouncer \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/*
USER postgres
EXPOSE 6432
# PgBouncer's safe shutdown: transactions in flight finish, then it exits (SIGTERM drops them).
STOPSIGNAL SIGINT
CMD ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
