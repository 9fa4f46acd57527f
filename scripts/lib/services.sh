# The services the tests use, started on private ports and sockets in a temporary folder and
# stopped whatever happens. Sourced by scripts/test.
#
# Redis: a redis-server with a random password for the default user and an ACL user with a
# password of its own, with 64 databases (tests that share it each take numbers of their own),
# on a free loopback TCP port and a Unix socket. The tests find it through
# NEWSROOM_TEST_REDIS_PORT, _SOCKET, _PASSWORD, _ACL_USER and _ACL_PASSWORD.
#
# Chroma: the server of the npm package chromadb (`chroma run`), pinned by
# bench/peers/chroma/package.json and installed with npm into build/peers/chroma the first time
# (never committed), on a free loopback port with its data in the temporary folder. The tests
# find it through NEWSROOM_TEST_CHROMA_HOST and NEWSROOM_TEST_CHROMA_PORT, and the folder that
# holds its `chroma` command (for the tests that stop and restart it) through
# NEWSROOM_TEST_CHROMA_BIN.

random_secret() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Waits until redis at socket $1 answers PING with password $2, or fails after 10 s.
wait_redis() {
  local i
  for i in $(seq 1 500); do
    [ "$(REDISCLI_AUTH="$2" redis-cli -s "$1" ping 2>/dev/null)" = PONG ] && return 0
    kill -0 "$NEWSROOM_SVC_REDIS_PID" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

services_start() {
  NEWSROOM_SVC_DIR=$(mktemp -d /tmp/nr-svc-XXXXXX)
  local pw acl_pw port try
  pw=$(random_secret)
  acl_pw=$(random_secret)
  for try in 1 2 3 4 5; do
    port=$(port_candidate)
    cat >"$NEWSROOM_SVC_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $port
unixsocket $NEWSROOM_SVC_DIR/redis.sock
unixsocketperm 700
dir $NEWSROOM_SVC_DIR
databases 64
save ""
appendonly no
logfile $NEWSROOM_SVC_DIR/redis.log
requirepass $pw
user newsroom-test on >$acl_pw ~* &* +@all
CONF
    redis-server "$NEWSROOM_SVC_DIR/redis.conf" &
    NEWSROOM_SVC_REDIS_PID=$!
    if wait_redis "$NEWSROOM_SVC_DIR/redis.sock" "$pw"; then
      export NEWSROOM_TEST_REDIS_PORT=$port
      export NEWSROOM_TEST_REDIS_SOCKET=$NEWSROOM_SVC_DIR/redis.sock
      export NEWSROOM_TEST_REDIS_PASSWORD=$pw
      export NEWSROOM_TEST_REDIS_ACL_USER=newsroom-test
      export NEWSROOM_TEST_REDIS_ACL_PASSWORD=$acl_pw
      say "test redis-server on 127.0.0.1:$port and $NEWSROOM_SVC_DIR/redis.sock"
      chroma_start
      return
    fi
    kill "$NEWSROOM_SVC_REDIS_PID" 2>/dev/null || true
    wait "$NEWSROOM_SVC_REDIS_PID" 2>/dev/null || true
  done
  say "the test redis-server did not start; its log:"
  cat "$NEWSROOM_SVC_DIR/redis.log" >&2 || true
  return 1
}

NEWSROOM_CHROMA_DIR=${NEWSROOM_CHROMA_DIR:-$PWD/build/peers/chroma}

# Installs Chroma's server into $NEWSROOM_CHROMA_DIR unless the pinned version is there.
chroma_install() {
  local spec=bench/peers/chroma/package.json
  if [ -x "$NEWSROOM_CHROMA_DIR/node_modules/.bin/chroma" ] &&
     cmp -s "$spec" "$NEWSROOM_CHROMA_DIR/package.json"; then
    return 0
  fi
  say "installing Chroma's server (npm chromadb) into $NEWSROOM_CHROMA_DIR"
  mkdir -p "$NEWSROOM_CHROMA_DIR"
  cp "$spec" "$NEWSROOM_CHROMA_DIR/package.json"
  (cd "$NEWSROOM_CHROMA_DIR" && npm install --no-audit --no-fund --loglevel=error >&2)
}

# Whether Chroma answers its heartbeat on 127.0.0.1:$1 (bash's /dev/tcp: no curl needed).
chroma_answers() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /api/v2/heartbeat HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  case "$line" in *" 200"*) return 0 ;; esac
  return 1
}

chroma_start() {
  local port try i
  chroma_install || { say "Chroma's server could not be installed"; return 1; }
  for try in 1 2 3 4 5; do
    port=$(port_candidate)
    "$NEWSROOM_CHROMA_DIR/node_modules/.bin/chroma" run --path "$NEWSROOM_SVC_DIR/chroma" \
      --host 127.0.0.1 --port "$port" >"$NEWSROOM_SVC_DIR/chroma.log" 2>&1 &
    NEWSROOM_SVC_CHROMA_PID=$!
    for i in $(seq 1 300); do
      if chroma_answers "$port"; then
        export NEWSROOM_TEST_CHROMA_HOST=127.0.0.1
        export NEWSROOM_TEST_CHROMA_PORT=$port
        export NEWSROOM_TEST_CHROMA_BIN=$NEWSROOM_CHROMA_DIR/node_modules/.bin
        say "test Chroma on 127.0.0.1:$port"
        return 0
      fi
      kill -0 "$NEWSROOM_SVC_CHROMA_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$NEWSROOM_SVC_CHROMA_PID" 2>/dev/null || true
    wait "$NEWSROOM_SVC_CHROMA_PID" 2>/dev/null || true
  done
  say "the test Chroma did not start; its log:"
  cat "$NEWSROOM_SVC_DIR/chroma.log" >&2 || true
  return 1
}

services_stop() {
  if [ -n "${NEWSROOM_SVC_CHROMA_PID:-}" ]; then
    kill "$NEWSROOM_SVC_CHROMA_PID" 2>/dev/null || true
    wait "$NEWSROOM_SVC_CHROMA_PID" 2>/dev/null || true
    NEWSROOM_SVC_CHROMA_PID=
  fi
  if [ -n "${NEWSROOM_SVC_REDIS_PID:-}" ]; then
    kill "$NEWSROOM_SVC_REDIS_PID" 2>/dev/null || true
    wait "$NEWSROOM_SVC_REDIS_PID" 2>/dev/null || true
    NEWSROOM_SVC_REDIS_PID=
  fi
  [ -n "${NEWSROOM_SVC_DIR:-}" ] && rm -rf "$NEWSROOM_SVC_DIR"
  NEWSROOM_SVC_DIR=
}
