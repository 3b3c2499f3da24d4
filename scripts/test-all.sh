#!/usr/bin/env bash
# Everything a fresh Debian machine (Node >= 20.19, root) needs, then every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

npm ci
npm run build
npm run lint
npm run typecheck
npm test
