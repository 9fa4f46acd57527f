# Shared by scripts/run and scripts/test: the Debian packages Newsroom needs and how they
# get installed. Sourced, not run.

# Building and running.
NEWSROOM_RUN_PACKAGES=(
  build-essential cmake pkg-config
  libncurses-dev libhiredis-dev libcurl4-openssl-dev libjansson-dev libinih-dev libssl-dev
  libxml2-dev
  ffmpeg espeak-ng fonts-dejavu-core
  redis-server
  # (redis-server also runs the sentinels of the Sentinel tests, with --sentinel: no
  # redis-sentinel package needed)
)
# Testing adds the test framework and the tools the tests drive.
NEWSROOM_TEST_PACKAGES=(
  "${NEWSROOM_RUN_PACKAGES[@]}"
  libcmocka-dev redis-tools jq procps libmicrohttpd-dev tmux ncurses-term
)

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
