#!/usr/bin/env bash
# `newsroom doctor` against a healthy setup and broken ones, with real servers: a private
# redis-server with a password and ACL users (full, read-only, none), the test Chroma that
# scripts/test starts, Langfuse's health endpoint played by a local server (node), ffmpeg and
# espeak-ng. Healthy: exit 0, every check
# ok or off. Broken, each on its own: Redis unreachable (exit 3), a wrong password, a read-only
# user (a warning) and a user without rights to nr: keys, ffmpeg missing, an unknown TERM, an
# S3 store and Chroma and Langfuse that do not answer, an unreadable configuration (exit 2);
# each names what is wrong and prints a fix; the password never appears.
. "$(dirname "$0")/lib.sh" "$1"
PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

PORT=$(pick_port)
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$T" --save "" --appendonly no \
  --requirepass "$PW" --logfile "$T/redis.log" \
  --user reader on ">$PW" '%R~nr:*' '&nr:*' -@all +@read +ping +info +client '+script|load' +evalsha +role +publish \
  --user outsider on ">$PW" '~other:*' -@all +@all &
track $!
await "redis" 10 sh -c "REDISCLI_AUTH=$PW redis-cli -p $PORT ping | grep -q PONG"
LF_PORT=$(pick_port)
node -e '
const http = require("http");
http.createServer((q, r) => {
  if (q.method === "GET" && q.url === "/api/public/health") {
    r.writeHead(200, {"Content-Type": "application/json"});
    r.end(JSON.stringify({status: "OK", version: "2.0.0"}));
  } else { r.writeHead(404); r.end(); }
}).listen(Number(process.argv[1]), "127.0.0.1");' "$LF_PORT" &
track $!
await "the Langfuse stand-in" 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$LF_PORT) 2>/dev/null"

export NEWSROOM_DATA_DIR=$T/data REDIS_URL="redis://:$PW@127.0.0.1:$PORT/0" TERM=xterm-256color LANG=C.UTF-8
: "${NEWSROOM_TEST_CHROMA_HOST:?the test Chroma is not running: run the tests through scripts/test}"
export CHROMA_HOST=$NEWSROOM_TEST_CHROMA_HOST CHROMA_PORT=$NEWSROOM_TEST_CHROMA_PORT
export LANGFUSE_PUBLIC_KEY=pk-test LANGFUSE_SECRET_KEY=sk-test-doctor LANGFUSE_HOST="http://127.0.0.1:$LF_PORT"
unset NEWSROOM_FFMPEG
line() { grep -E "^$1 +$2 " "$OUT"; }

# Healthy.
run 0 "$NR_BIN" doctor
for c in configuration "data directory" redis permissions "package store" models secrets chroma langfuse ffmpeg espeak-ng terminal; do
  if grep -qE "^ok +$c " "$OUT"; then ok; else bad "healthy: check $c is not ok"; fi
done
has "$OUT" "0 failed"
has "$OUT" "Redis 7"
has "$OUT" "may read, write, run scripts and publish"
hasnt "$OUT" "$PW"
# The password is a key this process holds: named, never shown, and no core dumps.
if line ok secrets | grep -q "3 held (\[redis\] url from env REDIS_URL, \[observe\] langfuse_public_key from env LANGFUSE_PUBLIC_KEY, \[observe\] langfuse_secret_key from env LANGFUSE_SECRET_KEY); core dumps off"; then ok; else bad "secrets check: $(line ok secrets)"; fi
run 0 "$NR_BIN" doctor --json
if jq -e '.failed == 0 and (.checks | length) == 12 and ([.checks[] | select(.status == "FAIL")] | length) == 0' "$OUT" >/dev/null; then ok; else bad "doctor --json"; fi

# Redis unreachable: exit 3, the checks that need it not run, a fix printed.
run 3 env REDIS_URL="redis://:$PW@127.0.0.1:$(pick_port)/0" "$NR_BIN" doctor
has "$OUT" "Connection refused"
has "$OUT" "fix: start the server"
if line off permissions >/dev/null; then ok; else bad "permissions checked without Redis"; fi
hasnt "$OUT" "$PW"
# A wrong password.
run 1 env REDIS_URL="redis://:wrong-$PW@127.0.0.1:$PORT/0" "$NR_BIN" doctor
has "$OUT" "REDIS_PASSWORD"
hasnt "$OUT" "$PW"
# A read-only user: fine for watching, said so; a user without nr: keys fails.
run 0 env REDIS_URL="redis://reader:$PW@127.0.0.1:$PORT/0" "$NR_BIN" doctor
if line warn permissions | grep -q "user reader may read but not write"; then ok; else bad "read-only user not reported"; fi
has "$OUT" "--read-only control room"
run 1 env REDIS_URL="redis://outsider:$PW@127.0.0.1:$PORT/0" "$NR_BIN" doctor
if line FAIL permissions | grep -q "user outsider cannot read nr: keys"; then ok; else bad "user without nr: keys not failed"; fi
has "$OUT" "config/users.acl"
# ffmpeg missing.
run 1 env NEWSROOM_FFMPEG="$T/no-ffmpeg" "$NR_BIN" doctor
if line FAIL ffmpeg >/dev/null; then ok; else bad "missing ffmpeg not failed"; fi
has "$OUT" "apt-get install ffmpeg"
# A terminal without terminfo.
run 1 env TERM=no-such-terminal "$NR_BIN" doctor
if line FAIL terminal >/dev/null; then ok; else bad "unknown TERM not failed"; fi
has "$OUT" "TERM=xterm-256color"
# An S3 store, Chroma and Langfuse that do not answer.
dead=$(pick_port)
run 1 env NEWSROOM_PACKAGE_STORE=s3 NEWSROOM_S3_BUCKET=b NEWSROOM_S3_ENDPOINT="http://127.0.0.1:$dead" \
  AWS_ACCESS_KEY_ID=AKIDOCTOR AWS_SECRET_ACCESS_KEY=s3-secret-doctor CHROMA_HOST=127.0.0.1 CHROMA_PORT=$dead \
  LANGFUSE_HOST="http://127.0.0.1:$dead" "$NR_BIN" doctor
for c in "package store" chroma langfuse; do
  if line FAIL "$c" >/dev/null; then ok; else bad "$c not failed"; fi
done
has "$OUT" "AWS_SECRET_ACCESS_KEY"
hasnt "$OUT" "s3-secret-doctor"
hasnt "$OUT" "sk-test-doctor"
# An unreadable configuration: exit 2, the rest not checked.
printf '[redis]\nport = many\n' >"$T/bad.conf"
run 2 "$NR_BIN" --config "$T/bad.conf" doctor
if line FAIL configuration | grep -q "bad.conf:2"; then ok; else bad "bad configuration not named"; fi
if line off redis >/dev/null; then ok; else bad "redis checked without a configuration"; fi
run 2 "$NR_BIN" doctor --frobnicate
# A configuration file holding a key that others can read: refused, naming the file and the fix.
printf '[providers]\nopenai_api_key = sk-doctor-file-key\n' >"$T/keys.conf"
chmod 644 "$T/keys.conf"
run 2 "$NR_BIN" --config "$T/keys.conf" doctor
has "$OUT" "$T/keys.conf holds a secret ([providers] openai_api_key) but others can read it (mode 0644): chmod 600 $T/keys.conf"
hasnt "$OUT" "sk-doctor-file-key"
chmod 600 "$T/keys.conf"
run 0 "$NR_BIN" --config "$T/keys.conf" doctor
if line ok secrets | grep -q "openai_api_key from $T/keys.conf:2"; then ok; else bad "a key from a private file"; fi
hasnt "$OUT" "sk-doctor-file-key"
finish
