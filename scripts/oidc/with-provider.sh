#!/usr/bin/env bash
# Runs the given command; with SSO_DEV_PROVIDER set (e.g. http://127.0.0.1:8010) the
# local OpenID provider runs beside it on that port and stops with it. Demo only.
set -euo pipefail
if [ -z "${SSO_DEV_PROVIDER:-}" ]; then exec "$@"; fi
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null || { echo "SSO_DEV_PROVIDER needs Node.js (node, npm)" >&2; exit 1; }
[ -d "$here/node_modules/oidc-provider" ] || (cd "$here" && npm ci --no-audit --no-fund --silent)
port="${SSO_DEV_PROVIDER##*:}"; port="${port%%/*}"
PORT="$port" ACCOUNTS_FILE="$here/demo-accounts.json" node "$here/provider.mjs" &
provider=$!
trap 'kill "$provider" 2>/dev/null || true' EXIT
echo "Local OpenID provider at $SSO_DEV_PROVIDER: log in as leder.sso, sekretaer.sso, loen.sso or admin.sso (any password)"
"$@"
