# Helpers for the shell tests that drive the newsroom binary. Sourced.
# run CODE CMD...     runs CMD, keeps stdout/stderr in $OUT/$ERR, checks the exit code
# has FILE TEXT       FILE contains TEXT (fixed string)
# hasnt FILE TEXT     FILE does not contain TEXT
# await DESC SECS CMD...  polls CMD until it succeeds (a condition, never a fixed sleep)
# finish              prints "N passed, N failed" and exits non-zero on any failure
# track PID           a background process of the test's, killed (and waited for) at the end
# free_port PORT / pick_port   whether nothing answers on a loopback port / one that is free
set -u
NR_BIN=$1
T=$(mktemp -d /tmp/nr-t-XXXXXX)
OUT=$T/out
ERR=$T/err
passed=0
failed=0
# Whatever happens, no server of ours outlives the test: stop any embedded redis-server whose
# pidfile lies under $T (they run in their own session), then remove everything.
TRACKED=()
track() { TRACKED+=("$1"); }
cleanup() {
  local f p
  for p in "${TRACKED[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${TRACKED[@]}"; do wait "$p" 2>/dev/null; done
  for f in $(find "$T" -name redis.pid 2>/dev/null); do
    kill -CONT "$(cat "$f")" 2>/dev/null
    kill "$(cat "$f")" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

# A clean environment: nothing from the developer's shell leaks into a test.
unset REDIS_URL REDIS_HOST REDIS_PORT REDIS_USER REDIS_PASSWORD REDIS_DB NEWSROOM_CONFIG \
  NEWSROOM_DATA_DIR NEWSROOM_LOG_LEVEL NEWSROOM_SWARM_NAME
export XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data HOME=$T
# Swarms here write storyboards, not videos (tests/integration/test_video.c renders).
export NEWSROOM_FFMPEG=none

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  printf 'FAIL: %s\n' "$*" >&2
  printf '  stdout: %s\n' "$(head -c 2000 "$OUT" 2>/dev/null)" >&2
  printf '  stderr: %s\n' "$(head -c 2000 "$ERR" 2>/dev/null)" >&2
}

run() {
  local want=$1 got
  shift
  "$@" >"$OUT" 2>"$ERR"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got, wanted $want: $*"; fi
}

has() { if grep -qF -- "$2" "$1"; then ok; else bad "$(basename "$1") lacks '$2'"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$(basename "$1") shows '$2'"; else ok; fi; }

# await DESC SECS CMD...: polls CMD until it succeeds, for at most SECS times the slack
# (NR_AWAIT_SLACK, 3 by default: sanitizer builds on a loaded 2-core machine draw and answer
# several times slower than a release build); a condition met early returns at once.
await() {
  local desc=$1 secs=$2 end
  shift 2
  end=$((SECONDS + secs * ${NR_AWAIT_SLACK:-3}))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then bad "timed out after $((secs * ${NR_AWAIT_SLACK:-3}))s waiting for $desc"; return 1; fi
    sleep 0.05
  done
  ok
}

finish() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# port_candidate [N]: see scripts/lib/ports.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/ports.sh"
free_port() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  while :; do
    p=$(port_candidate)
    free_port $p && { echo $p; return; }
  done
}
