#!/usr/bin/env bash
# Installs the pinned pnpm (if missing) and the workspace's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  npm install --global "pnpm@$PNPM_VERSION"
fi

# better-sqlite3 compiles from source where no prebuilt binary can be downloaded. Point node-gyp at
# the headers that came with this machine's Node instead of letting it download them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

pnpm install --frozen-lockfile

# The server as JavaScript (packages/server/dist/main.js, what `pnpm start` runs) and the web
# dashboard it serves at /ui (packages/dashboard/dist); both git-ignored.
pnpm build

# Debian packages whose programs the tests and the bench start themselves, on free loopback ports
# (they use no service of the machine's): haproxy and nginx in front of server replicas (both
# shipped proxy configurations are tested), redis-server for the bench, PostgreSQL's server
# binaries for the PostgreSQL store, chromium for the dashboard's browser tests. Installed only
# when missing and only as root. This never fails the set-up: the server runs without them, and a
# test that needs one fails naming what to install.
install_missing_system_packages() {
  local missing=() log status policy=/usr/sbin/policy-rc.d own_policy=
  has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }
  has haproxy || missing+=(haproxy)
  has nginx || missing+=(nginx)
  has redis-server || missing+=(redis-server)
  has chromium || missing+=(chromium)
  # Debian puts initdb off PATH; look where packages/testkit looks for it.
  has initdb || { [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; } ||
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] && return 0

  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: ${missing[*]} missing; not installed (that needs root and apt-get)." >&2
    echo "setup: install them (Debian: sudo apt-get install ${missing[*]}); until then the tests" \
      "and bench runs that start them fail saying what is missing." >&2
    return 0
  fi

  echo "setup: installing ${missing[*]}"
  log=$(mktemp)
  # Their package scripts would start each as a system service (PostgreSQL on 5432, Redis on 6379,
  # nginx on 80, HAProxy); nothing here wants those, so Debian's policy-rc.d hook keeps them down
  # during the install, unless the machine has a policy of its own already.
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >>"$log" 2>&1 || status=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  if [ "$status" -ne 0 ]; then
    echo "setup: apt-get could not install ${missing[*]} (exit $status); its last lines:" >&2
    tail -n 20 "$log" >&2
  fi
  rm -f "$log"
}
install_missing_system_packages
