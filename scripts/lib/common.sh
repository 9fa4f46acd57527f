# Shared by scripts/run and scripts/test: the Debian packages Newsroom needs and how they
# get installed. Sourced, not run.

# Building and running.
NEWSROOM_RUN_PACKAGES=(
  build-essential cmake pkg-config
  libncurses-dev libhiredis-dev libcurl4-openssl-dev libjansson-dev libinih-dev libssl-dev
  libxml2-dev libmicrohttpd-dev
  ffmpeg espeak-ng fonts-dejavu-core
  redis-server
  # (redis-server also runs the sentinels of the Sentinel tests, with --sentinel: no
  # redis-sentinel package needed)
)
# Testing adds the test framework and the tools the tests drive. prometheus (promtool and a
# real Prometheus for tests/integration/test_observe_prometheus.sh) is 12 packages, about 19 MB
# to download and 100 MB installed (mostly the prometheus and promtool binaries and the web
# UI's JavaScript); on a machine with systemd its package starts a prometheus service on :9090,
# which the tests do not use (they start their own on a free loopback port).
NEWSROOM_TEST_PACKAGES=(
  "${NEWSROOM_RUN_PACKAGES[@]}"
  libcmocka-dev redis-tools jq procps tmux ncurses-term curl prometheus
  man-db groff-base bsdextrautils
)
# Chroma's server for the tests comes from npm (scripts/lib/services.sh): Debian's Node.js and
# npm, unless a Node.js with npm is installed another way (its own package provides npm, and
# Debian's npm would conflict with it).
command -v npm >/dev/null 2>&1 || NEWSROOM_TEST_PACKAGES+=(nodejs npm)

# Programs the tests run that a machine may have from elsewhere (Node.js from NodeSource brings
# its own npm, which Debian's npm package would fight): PROGRAM:PACKAGE, the package installed
# only when the program is missing. Node.js runs the S3-compatible server of the package store's
# tests (s3rver) and the benchmarks' peers.
NEWSROOM_TEST_PROGRAMS=(node:nodejs npm:npm)
# npm packages the tests use, installed into build/peers/NAME (never committed): NAME:SPEC.
NEWSROOM_TEST_NPM=(s3rver:s3rver@3)

say() { printf '==> %s\n' "$*" >&2; }

# Installs whichever of the named packages are missing. As root it runs apt-get; otherwise it
# prints the exact command to run and exits 1. Quick when nothing is missing: no apt-get at all.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    printf 'newsroom: missing Debian packages; run as root:\n  apt-get update && apt-get install -y --no-install-recommends %s\n' \
      "${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures and builds a tree: build_tree DIR [cmake -D options...]. Both steps are quick
# when nothing changed.
build_tree() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" -- --no-print-directory
}

# Installs the Debian package of each PROGRAM:PACKAGE whose program is not on PATH.
ensure_programs() {
  local missing=() p
  for p in "$@"; do
    command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
  done
  [ ${#missing[@]} -eq 0 ] || ensure_packages "${missing[@]}"
}

# Installs each NAME:SPEC npm package into build/peers/NAME when it is not there (quick when it
# is: no npm at all).
ensure_npm_peers() {
  local p name spec
  for p in "$@"; do
    name=${p%%:*}
    spec=${p#*:}
    [ -f "build/peers/$name/node_modules/$name/package.json" ] && continue
    say "installing $spec into build/peers/$name with npm"
    mkdir -p "build/peers/$name"
    npm install --prefix "build/peers/$name" --no-audit --no-fund --no-save --loglevel=error \
      "$spec" >/dev/null
  done
}
