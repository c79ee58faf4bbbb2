#!/usr/bin/env bash
# Rehearses what the Dockerfile's runtime images hold, where no Docker engine runs: production
# dependencies only (npm ci --omit=dev), the built bundles, NODE_ENV=production, an unprivileged
# user when we are root. Both services start from there, answer the seed's calls and their
# health routes, and stop cleanly on SIGTERM. Needs `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."

image=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$image"' EXIT
cp package.json package-lock.json "$image/"
(cd "$image" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
mkdir -p "$image/dist/apps"
cp -r dist/apps/users dist/apps/orders "$image/dist/apps/"
chmod -R a+rX "$image"

as_app_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  as_app_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

users_port=15001
orders_port=15002
cd "$image"
env -i PATH="$PATH" NODE_ENV=production SHUTDOWN_DRAIN_MS=200 USERS_PORT=$users_port \
  "${as_app_user[@]}" node dist/apps/users/main.js > users.log 2>&1 &
users_pid=$!
env -i PATH="$PATH" NODE_ENV=production SHUTDOWN_DRAIN_MS=200 ORDERS_PORT=$orders_port \
  USERS_SERVICE_URL=http://127.0.0.1:$users_port \
  "${as_app_user[@]}" node dist/apps/orders/main.js > orders.log 2>&1 &
orders_pid=$!

node - "$users_port" "$orders_port" <<'JS'
const [users, orders] = process.argv.slice(2).map((port) => `http://127.0.0.1:${port}`);
const call = async (url, body) => {
  const response = await fetch(url, body && {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return `${response.status} ${await response.text()}`;
};
const expectations = [
  [`${users}/health/ready`, undefined, /^200 /],
  [`${orders}/health/ready`, undefined, /^200 /],
  [`${users}/docs/swagger-ui.css`, undefined, /^200 /],
  [`${orders}/openapi.json`, undefined, /^200 \{"openapi":"3/],
  [`${users}/users/1`, undefined, /^200 \{"name":"Alice","email":"alice@example.com"\}$/],
  [`${users}/users`, { name: 'Charlie', email: 'charlie@example.com' }, /^201 \{"user_id":3\}$/],
  [`${orders}/orders/1`, undefined, /^200 \{"user_id":1,"product":"Laptop","user":\{"name":"Alice","email":"alice@example.com"\}\}$/],
  [`${orders}/orders`, { user_id: 2, product: 'Tablet' }, /^201 \{"order_id":3\}$/],
];
(async () => {
  for (let i = 0; ; i++) {
    try { await fetch(`${users}/health/live`); await fetch(`${orders}/health/live`); break; }
    catch { if (i > 200) throw new Error('the services did not start'); await new Promise((r) => setTimeout(r, 50)); }
  }
  for (const [url, body, expected] of expectations) {
    const got = await call(url, body);
    if (!expected.test(got)) throw new Error(`${body ? 'POST' : 'GET'} ${url}: ${got}`);
    console.log(`ok ${body ? 'POST' : 'GET'} ${url} -> ${got.slice(0, 60)}`);
  }
})().catch((error) => { console.error(error.message); process.exit(1); });
JS

kill -TERM "$orders_pid" "$users_pid"
status=0
wait "$orders_pid" || status=$?
wait "$users_pid" || status=$?
if [ "$status" != 0 ]; then
  echo "a service did not exit 0 on SIGTERM"; cat users.log orders.log; exit 1
fi
if grep -q '"level":[56]0' users.log orders.log; then
  echo "errors were logged:"; grep '"level":[56]0' users.log orders.log; exit 1
fi
echo "image rehearsal passed (ran as uid $(id -u) ${as_app_user[*]:+→ 65534})"
