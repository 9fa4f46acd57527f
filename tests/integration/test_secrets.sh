#!/usr/bin/env bash
# Secrets never leave the process: a full pipeline (newsroom swarm --once --auto-approve on
# ingested stories, every role) runs with a test key for everything that takes one set, the
# models played by the project's fake LLM server (which checks every request carries its key),
# a Redis password, a webhook URL with a token and its signing secret (a local receiver), S3
# keys for the package store (s3rver behind the proxy that checks every signature), and one key
# from a configuration file. Then every output is searched for every key:
# stdout and stderr of every command (swarm, ctl, config, doctor, an error path where the
# model API echoes the key back, the package store refusing a wrong key), the control room's screen, the log and everything in the
# data directory, and everything Redis was ever told (its append-only file, without the RDB
# preamble, so nothing is compressed). A configuration file holding a key that others can
# read is refused; a process holding keys dumps no core.
# Traces go to the project's fake Langfuse (which checks its keys), metrics are scraped from
# /metrics, and `ctl trace` shows a story's trace: all searched too.
# Arguments: the newsroom binary, the fake_llm_server binary, the fake_langfuse_server binary.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/../tui/lib.sh"
FAKE_LLM=$2
FAKE_LF=$3
SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
rnd() { head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The keys, each unmistakable.
OPENAI_KEY=sk-test-openai-$(rnd)
ANTHROPIC_KEY=sk-ant-test-$(rnd)
ELEVEN_KEY=el-test-$(rnd)
REDIS_PW=redis-pw-$(rnd)
HOOK_TOKEN=hooktoken$(rnd)
HOOK_SECRET=whsec-$(rnd)
AWS_ID=AKIATEST$(rnd)
AWS_SECRET=aws-secret-$(rnd)
LF_SECRET=sk-lf-test-9a7e-secret # the fake Langfuse's key (tests/support/fake_langfuse.h)
KEYS=("$OPENAI_KEY" "$ANTHROPIC_KEY" "$ELEVEN_KEY" "$REDIS_PW" "$HOOK_TOKEN" "$HOOK_SECRET"
  "$AWS_ID" "$AWS_SECRET" "$LF_SECRET")

# Redis with a password, every write in a plain append-only file.
mkdir -p "$T/redis" "$T/outputs" "$T/cwd"
redis-server --port 0 --unixsocket "$T/redis/r.sock" --unixsocketperm 700 --dir "$T/redis" \
  --save '' --appendonly yes --appendfsync always --aof-use-rdb-preamble no \
  --requirepass "$REDIS_PW" --logfile "$T/redis/redis.log" &
track $!
await "redis" 10 sh -c "REDISCLI_AUTH='$REDIS_PW' redis-cli -s '$T/redis/r.sock' ping | grep -q PONG"

# The model API, and the webhook's receiver (it needs the token in its path and a signature).
"$FAKE_LLM" openai "$OPENAI_KEY" >"$T/fake.url" 2>"$T/fake.err" &
FAKE_PID=$!
track $FAKE_PID
await "the fake LLM server" 10 test -s "$T/fake.url"
HOOK_PORT=$(pick_port)
node -e '
const http = require("http");
const [port, token] = process.argv.slice(1);
http.createServer((q, r) => {
  let n = 0;
  q.on("data", (c) => { n += c.length; });
  q.on("end", () => {
    const good = q.method === "POST" && q.url === "/hook/" + token &&
      /^sha256=[0-9a-f]{64}$/.test(q.headers["x-newsroom-signature"] || "");
    r.writeHead(good ? 200 : 400);
    r.end();
  });
}).listen(Number(port), "127.0.0.1");' "$HOOK_PORT" "$HOOK_TOKEN" &
track $!
await "the webhook receiver" 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$HOOK_PORT) 2>/dev/null"

# The package store: S3 (s3rver behind the signature-checking proxy) with the test keys.
: "${NEWSROOM_PEERS_DIR:?NEWSROOM_PEERS_DIR is not set (tests/CMakeLists.txt sets it)}"
mkdir -p "$T/s3"
node "$SRC/tests/support/s3_server.mjs" 0 "$T/s3" "$T/s3.log" "$AWS_ID" "$AWS_SECRET" newsroom-secrets \
  >"$T/s3.out" 2>"$T/s3.err" &
track $!
await "the S3 server" 30 grep -q '^ready ' "$T/s3.out"
export NEWSROOM_PACKAGE_STORE=s3 NEWSROOM_S3_BUCKET=newsroom-secrets \
  NEWSROOM_S3_ENDPOINT="http://127.0.0.1:$(sed -n 's/^ready //p' "$T/s3.out")"

export REDIS_URL="unix://$T/redis/r.sock" REDIS_PASSWORD=$REDIS_PW
export NEWSROOM_DATA_DIR=$T/data NEWSROOM_LLM_PROVIDER=openai OPENAI_BASE_URL=$(cat "$T/fake.url")
export OPENAI_API_KEY=$OPENAI_KEY ELEVENLABS_API_KEY=$ELEVEN_KEY
export NEWSROOM_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/hook/$HOOK_TOKEN" NEWSROOM_WEBHOOK_SECRET=$HOOK_SECRET
export AWS_ACCESS_KEY_ID=$AWS_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET
"$FAKE_LF" >"$T/lf.url" 2>"$T/lf.err" &
LF_PID=$!
track $LF_PID
await "the fake Langfuse" 10 test -s "$T/lf.url"
export LANGFUSE_HOST=$(cat "$T/lf.url") LANGFUSE_PUBLIC_KEY=pk-lf-test-4f1c LANGFUSE_SECRET_KEY=$LF_SECRET
export NEWSROOM_LOG_LEVEL=debug
# One key from a configuration file: refused while others can read the file.
CONF=$T/newsroom.conf
printf '[providers]\nanthropic_api_key = %s\n' "$ANTHROPIC_KEY" >"$CONF"
chmod 644 "$CONF"
export NEWSROOM_CONFIG=$CONF
run 2 "$NR_BIN" ctl status
has "$ERR" "chmod 600 $CONF"
cp "$OUT" "$T/outputs/refused.out"; cp "$ERR" "$T/outputs/refused.err"
chmod 600 "$CONF"

# The pipeline.
head -12 "$SRC/config/sample_stories.jsonl" >"$T/stories.jsonl"
run 0 "$NR_BIN" ctl ingest "$T/stories.jsonl"
cp "$OUT" "$T/outputs/ingest.out"; cp "$ERR" "$T/outputs/ingest.err"
run 0 timeout 240 "$NR_BIN" swarm --once --auto-approve --summary
cp "$OUT" "$T/outputs/swarm.out"; cp "$ERR" "$T/outputs/swarm.err"
# The rest of the line with the offline models (the fake's canned answers archive every story
# at the analyst): the same keys held, stories to PUBLISHED, the webhook delivered with its
# token and signature.
sed -n '13,24p' "$SRC/config/sample_stories.jsonl" >"$T/stories2.jsonl"
run 0 "$NR_BIN" ctl ingest "$T/stories2.jsonl"
cp "$OUT" "$T/outputs/ingest2.out"; cp "$ERR" "$T/outputs/ingest2.err"
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n' >>"$CONF"
run 0 env NEWSROOM_LLM_PROVIDER=sim timeout 240 "$NR_BIN" swarm --once --auto-approve --summary
cp "$OUT" "$T/outputs/swarm2.out"; cp "$ERR" "$T/outputs/swarm2.err"
# The fake was asked, with the key (it answers 400 to a request without it).
if [ "$(grep -c 'Authorization' "$T/fake.err" 2>/dev/null)" = 0 ]; then ok; else bad "the fake saw a bad Authorization header"; fi
for verb in "items --json" "audit" "agents" "usage" "budget" "queues" "status --json"; do
  # shellcheck disable=SC2086
  "$NR_BIN" ctl $verb >"$T/outputs/ctl-${verb%% *}.out" 2>"$T/outputs/ctl-${verb%% *}.err"
done
for id in $(jq -r '(if type == "array" then . else .items end)[].id' "$T/outputs/ctl-items.out"); do
  "$NR_BIN" ctl item "$id" --json >>"$T/outputs/ctl-item.out" 2>>"$T/outputs/ctl-item.err"
  "$NR_BIN" ctl item "$id" >>"$T/outputs/ctl-item.out" 2>>"$T/outputs/ctl-item.err"
done
n_items=$(jq '(if type == "array" then . else .items end) | length' "$T/outputs/ctl-items.out")
if [ "$n_items" -gt 0 ]; then ok; else bad "the pipeline left no stories"; fi
if grep -q '"delivered"' "$T/outputs/ctl-item.out"; then ok; else bad "no story was published with its webhook delivered"; fi
# Published through the S3 store, every request signed with the test keys and accepted.
pub=$(jq -r '(if type == "array" then . else .items end)[] | select(.status == "PUBLISHED") | .id' "$T/outputs/ctl-items.out" | head -1)
"$NR_BIN" ctl package "$pub" --published --get package.json --out "$T/outputs/pub.json" >"$T/outputs/pkg.out" 2>"$T/outputs/pkg.err"
if [ "$(jq -r .id "$T/outputs/pub.json" 2>/dev/null)" = "$pub" ]; then ok; else bad "the published package did not come back from the store: $(cat "$T/outputs/pkg.err")"; fi
if grep -q '"status":403' "$T/s3.log"; then bad "the store refused a request"; else ok; fi
# A wrong key: refused by the store, the message shows neither key.
AWS_SECRET_ACCESS_KEY=${AWS_SECRET}x "$NR_BIN" ctl package "$pub" --published --get package.json \
  --out "$T/outputs/x.json" >"$T/outputs/wrongkey.out" 2>"$T/outputs/wrongkey.err"
if grep -q SignatureDoesNotMatch "$T/outputs/wrongkey.err"; then ok; else bad "a wrong key was not refused: $(cat "$T/outputs/wrongkey.err")"; fi
"$NR_BIN" config >"$T/outputs/config.out" 2>"$T/outputs/config.err"
"$NR_BIN" config --json >"$T/outputs/config.json" 2>>"$T/outputs/config.err"
"$NR_BIN" doctor >"$T/outputs/doctor.out" 2>"$T/outputs/doctor.err"
if grep -qE '^ok +secrets +[0-9]+ held .*core dumps off' "$T/outputs/doctor.out"; then ok; else bad "doctor: $(grep secrets "$T/outputs/doctor.out")"; fi
if grep -q 'openai_api_key from env OPENAI_API_KEY' "$T/outputs/doctor.out" &&
  grep -q "anthropic_api_key from $CONF:2" "$T/outputs/doctor.out"; then ok; else bad "doctor does not name the keys held"; fi

# Traces of a story, and the metrics of a running swarm.
"$NR_BIN" ctl trace "$pub" >"$T/outputs/trace.out" 2>"$T/outputs/trace.err"
"$NR_BIN" ctl trace "$pub" --json >>"$T/outputs/trace.out" 2>>"$T/outputs/trace.err"
[ -s "$T/outputs/trace.out" ] && ok || bad "ctl trace printed nothing: $(cat "$T/outputs/trace.err")"
MPORT=$(pick_port)
"$NR_BIN" swarm --roles scout:1 --duration 60 --metrics "127.0.0.1:$MPORT" >"$T/outputs/metrics-swarm.out" 2>"$T/outputs/metrics-swarm.err" &
msw=$!
await "the metrics endpoint" 30 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics >'$T/outputs/metrics.txt'"
grep -q '^newsroom_' "$T/outputs/metrics.txt" && ok || bad "no metrics scraped"
kill "$msw"; wait "$msw" 2>/dev/null

# An error path: the model API answers 401 and echoes the key back.
sed -E 's/^FAST = sim-fast$/FAST = scenario-401/' "$SRC/config/pricing.conf" >"$T/pricing-401.conf"
printf '\n[model scenario-401]\ntier = FAST\nprovider = openai\nprompt_per_1k = 0.001\ncompletion_per_1k = 0.001\n' >>"$T/pricing-401.conf"
printf '{"title": "Harbour reopens after storm damage repaired", "content": "The city harbour reopened on Monday after crews repaired storm damage, the port authority said.", "source": "Test Wire"}\n' >"$T/harbour.jsonl"
run 0 "$NR_BIN" ctl ingest "$T/harbour.jsonl"
NEWSROOM_PRICING_FILE=$T/pricing-401.conf timeout 60 "$NR_BIN" swarm --roles scout:1 --wire --duration 4 \
  >"$T/outputs/swarm401.out" 2>"$T/outputs/swarm401.err"
if grep -q "401" "$T/data/newsroom.log"; then ok; else bad "the 401 from the model API is not in the log"; fi

# The control room, watching: its screen.
room_start 160 45 TERM=xterm-256color LANG=C.UTF-8 -- --attach --read-only
await_screen "the control room" 15 "Blackboard"
screen >"$T/outputs/room.screen"
keys q
room_gone 10

# A process holding keys dumps no core (ASan's own switch left off, so the check is ours); one
# without keys keeps the limit it was given.
NR_ABS=$(realpath "$NR_BIN")
core_limit() { sed -n 's/^Max core file size *\([^ ]*\) *\([^ ]*\).*/\1 \2/p' "/proc/$1/limits"; }
bash -c 'ulimit -c unlimited; cd "$1"; shift; exec "$@"' sh "$T/cwd" env ASAN_OPTIONS=disable_coredump=0:detect_leaks=0 \
  "$NR_ABS" swarm --roles scout:1 --duration 60 >"$T/outputs/core1.out" 2>"$T/outputs/core1.err" &
sw=$!
await "the swarm with keys to start" 30 grep -q "swarm on" "$T/outputs/core1.err"
if [ "$(core_limit $sw)" = "0 0" ]; then ok; else bad "with keys, the core limit is $(core_limit $sw)"; fi
kill "$sw"; wait "$sw" 2>/dev/null
bash -c 'ulimit -c unlimited; cd "$1"; shift; exec "$@"' sh "$T/cwd" env -u OPENAI_API_KEY -u ELEVENLABS_API_KEY \
  -u NEWSROOM_WEBHOOK_URL -u NEWSROOM_WEBHOOK_SECRET -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  -u REDIS_PASSWORD -u NEWSROOM_CONFIG -u REDIS_URL -u LANGFUSE_PUBLIC_KEY -u LANGFUSE_SECRET_KEY \
  -u AWS_ACCESS_KEY_ID -u NEWSROOM_PACKAGE_STORE NEWSROOM_LLM_PROVIDER=sim NEWSROOM_DATA_DIR="$T/data-nokeys" \
  ASAN_OPTIONS=disable_coredump=0:detect_leaks=0 "$NR_ABS" swarm --roles scout:1 --duration 60 \
  >"$T/outputs/core2.out" 2>"$T/outputs/core2.err" &
sw=$!
await "the swarm without keys to start" 30 grep -q "swarm on" "$T/outputs/core2.err"
if [ "$(core_limit $sw)" = "unlimited unlimited" ]; then ok; else bad "without keys, the core limit is $(core_limit $sw)"; fi
kill "$sw"; wait "$sw" 2>/dev/null

# The fake Langfuse got the traces, with its keys, breaking nothing of its API.
kill "$LF_PID"; wait "$LF_PID"
if grep -qE 'fake_langfuse_server: [1-9][0-9]* requests' "$T/lf.err" && ! grep -q violations "$T/lf.err"; then ok; else bad "traces: $(cat "$T/lf.err")"; fi

# Everything Redis holds or was told, and the fake's stop.
REDISCLI_AUTH=$REDIS_PW redis-cli -s "$T/redis/r.sock" bgrewriteaof >/dev/null 2>&1 || true
kill "$FAKE_PID"; wait "$FAKE_PID"
if grep -q "requests" "$T/fake.err" && ! grep -q "violation" "$T/fake.err"; then ok; else bad "fake LLM: $(cat "$T/fake.err")"; fi
if [ "$(sed -n 's/.*: \([0-9]*\) requests.*/\1/p' "$T/fake.err")" -gt 10 ]; then ok; else bad "the models were hardly asked: $(cat "$T/fake.err")"; fi

# The search: every key, everywhere. The configuration file and the fake's own files are the
# only places a key may be (we put it there).
for k in "${KEYS[@]}"; do
  hits=$(grep -rlF -- "$k" "$T/outputs" "$T/data" "$T/data-nokeys" "$T/redis" "$T/cwd" 2>/dev/null)
  if [ -z "$hits" ]; then ok; else bad "key ${k:0:12}... found in: $hits"; fi
done
# The search can find: the append-only file holds what we wrote, in plain text.
if grep -qrF "Harbour reopens" "$T/redis" && grep -qrF "$(jq -r .title "$T/stories2.jsonl" | head -1)" "$T/redis"; then ok; else bad "the append-only file is not searchable"; fi
finish
