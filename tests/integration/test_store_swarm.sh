#!/usr/bin/env bash
# Packages without a shared filesystem: four "machines" (processes with data directories of
# their own) share only Redis and an S3-compatible store (s3rver behind
# tests/support/s3_server.mjs, which checks every request's Signature V4). A renders real
# videos (ffmpeg, espeak-ng) as the producer: the packages go to the bucket and nothing stays
# in A's packages folder; B approves and publishes: the published copy goes to the bucket too,
# nothing in B's publish folder; C fetches a video and the published package through
# `ctl package`, byte for byte what ffprobe reads as H.264; D's preview server serves a video
# it never had on disk, fetched through the store.
. "$(dirname "$0")/lib.sh" "$1"
SRC=$(cd "${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
KEY_ID=STORESWARMKEY
SECRET=store-swarm-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=newsroom-swarm
: "${NEWSROOM_PEERS_DIR:?NEWSROOM_PEERS_DIR is not set (tests/CMakeLists.txt sets it)}"

# The store.
mkdir -p "$T/s3"
node "$SRC/tests/support/s3_server.mjs" 0 "$T/s3" "$T/s3.log" "$KEY_ID" "$SECRET" "$BUCKET" >"$T/s3.out" 2>"$T/s3.err" &
track $!
await "the S3 server" 30 grep -q '^ready ' "$T/s3.out"
S3_PORT=$(sed -n 's/^ready //p' "$T/s3.out")
# Redis.
redis-server --port 0 --unixsocket "$T/r.sock" --unixsocketperm 700 --save '' --appendonly no --dir "$T" \
  --logfile "$T/redis.log" &
track $!
await "redis" 10 redis-cli -s "$T/r.sock" ping

export REDIS_URL="unix://$T/r.sock" NEWSROOM_PACKAGE_STORE=s3 NEWSROOM_S3_BUCKET=$BUCKET \
  NEWSROOM_S3_PREFIX=swarm/ NEWSROOM_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
  AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET
unset NEWSROOM_FFMPEG
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n[video]\npreset = ultrafast\n[preview]\nport = 0\n' >"$T/n.conf"
export NEWSROOM_CONFIG=$T/n.conf
machine() { local m=$1; shift; env NEWSROOM_DATA_DIR="$T/$m" NEWSROOM_PUBLISH_DIR="$T/$m/publish" "$@"; }

# A: the line up to review, with real renders.
head -3 "$SRC/config/sample_stories.jsonl" >"$T/stories.jsonl"
run 0 machine A "$NR_BIN" ctl ingest "$T/stories.jsonl"
run 0 machine A timeout 300 "$NR_BIN" swarm --once \
  --roles analyst:1,debater:3,moderator:1,writer:1,qa:1,producer:1
run 0 machine A "$NR_BIN" ctl items --status REVIEWING --json
ids=$(jq -r '(if type == "array" then . else .items end)[].id' "$OUT")
[ -n "$ids" ] && ok || bad "no story reached review"
for id in $ids; do
  run 0 machine A "$NR_BIN" ctl item "$id" --json
  if jq -e '.body.package.store.kind == "s3" and .body.package.store.bucket == "'"$BUCKET"'" and (.body.package.store.keys["video.mp4"] | startswith("swarm/packages/")) and .body.package.folder == null' "$OUT" >/dev/null; then ok; else bad "$id: the package is not recorded in the store: $(jq -c .body.package.store "$OUT")"; fi
done
if [ -z "$(ls -A "$T/A/packages" 2>/dev/null)" ]; then ok; else bad "A kept packages on disk: $(ls "$T/A/packages")"; fi

# B: approve and publish, on another data directory.
for id in $ids; do run 0 machine B "$NR_BIN" ctl approve "$id"; done
run 0 machine B timeout 120 "$NR_BIN" swarm --once --roles publisher:1,archivist:1
for id in $ids; do
  run 0 machine B "$NR_BIN" ctl item "$id" --json
  [ "$(jq -r .status "$OUT")" = PUBLISHED ] && ok || bad "$id is $(jq -r .status "$OUT") on B: $(jq -c .body.publish "$OUT")"
  if jq -e '.body.publish.store.kind == "s3" and (.body.publish.store.keys["video.mp4"] | startswith("swarm/published/"))' "$OUT" >/dev/null; then ok; else bad "$id: the published copy is not in the store"; fi
done
if [ -z "$(ls -A "$T/B/publish" 2>/dev/null)" ]; then ok; else bad "B kept a publish folder: $(ls "$T/B/publish")"; fi

# C: fetch through ctl package, the producer's and the published copy.
id=$(echo "$ids" | head -1)
mkdir -p "$T/C"
run 0 machine C "$NR_BIN" ctl package "$id"
has "$OUT" "s3://$BUCKET"
has "$OUT" "swarm/packages/$id/video.mp4"
run 0 machine C "$NR_BIN" ctl package "$id" --get video.mp4 --out "$T/C/v.mp4"
run 0 machine C "$NR_BIN" ctl package "$id" --published --get video.mp4 --out "$T/C/p.mp4"
if cmp -s "$T/C/v.mp4" "$T/C/p.mp4"; then ok; else bad "the published video differs from the produced one"; fi
ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$T/C/v.mp4" >"$OUT" 2>"$ERR"
has "$OUT" h264
run 0 machine C "$NR_BIN" ctl package "$id" --published --get package.json --out "$T/C/package.json"
[ "$(jq -r .id "$T/C/package.json")" = "$id" ] && ok || bad "the published package.json is not $id's"
run 1 machine C "$NR_BIN" ctl package "$id" --get nothing.bin
has "$ERR" "no file nothing.bin"
run 0 machine C "$NR_BIN" ctl package "$id" --json
jq -e '.where.kind == "s3"' "$OUT" >/dev/null && ok || bad "ctl package --json"

# D: the preview server serves the video through the store (a token as the control room makes
# one: the package's "where").
PORT=$(pick_port)
printf '[preview]\nport = %s\n' "$PORT" >>"$T/n.conf"
machine D "$NR_BIN" swarm --roles scout:1 --duration 120 >"$T/d.out" 2>"$T/d.err" &
track $!
await "D's preview server" 20 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null"
run 0 machine C "$NR_BIN" ctl item "$id" --json
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
redis-cli -s "$T/r.sock" set "nr:preview:tok:$TOKEN" "$(jq -c -S .body.package.store "$OUT")" EX 60 >/dev/null
code=$(curl -s -o "$T/D.mp4" -w '%{http_code}' "http://127.0.0.1:$PORT/p/$TOKEN/video.mp4")
[ "$code" = 200 ] && ok || bad "the preview answered $code"
if cmp -s "$T/D.mp4" "$T/C/v.mp4"; then ok; else bad "the previewed video differs"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Range: bytes=0-99' "http://127.0.0.1:$PORT/p/$TOKEN/video.mp4")
[ "$code" = 206 ] && ok || bad "a range answered $code"
if [ -z "$(find "$T/D" -name '*.mp4' -not -path '*/.preview/*' 2>/dev/null)" ]; then ok; else bad "D has a video outside its preview cache"; fi
# Every request to the store was signed right.
if grep -q '"status":403' "$T/s3.log"; then bad "a request was refused: $(grep -m2 '"status":403' "$T/s3.log")"; else ok; fi
finish
