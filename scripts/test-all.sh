#!/usr/bin/env bash
# Everything a fresh Debian machine (Node >= 20.19, root) needs, then every check and test.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  if (a < 20 || (a === 20 && b < 19)) { console.error(`livetrail needs Node >= 20.19, found ${process.version}`); process.exit(1); }'

# System packages: Chromium drives the browser tests (through playwright-core, never a downloaded browser);
# the Redis backend's tests start their own redis-server (never a mock); the proxy tests put nginx and Caddy in front;
# npm ci builds the native RE2 (optional dependency `re2`, linear-time search) from source with g++, make and python3.
missing=()
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null || missing+=(caddy)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing apt packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

npm ci
# Without it the server runs regexes on re2js (slower); the tests run both engines, so the build must be there.
node -e 'require("re2")' || { echo "the native re2 module did not build (see npm ci's output)" >&2; exit 1; }
npm run build
npm run lint
npm run typecheck
npm test
