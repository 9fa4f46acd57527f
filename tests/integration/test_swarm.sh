#!/usr/bin/env bash
# `newsroom swarm` driven from the shell, on a private data directory (embedded Redis): the
# default wire run with scout and analyst for a few seconds exits 0 and leaves stories in
# Redis; a bad role or option exits 2 naming it; --once over ingested sample stories ends by
# itself with every story terminal or awaiting review.
. "$(dirname "$0")/lib.sh" "$1"

D=$T/d
export NEWSROOM_DATA_DIR=$D
SAMPLES=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}/config/sample_stories.jsonl

# 1. Bad roles and options: exit 2, naming what is wrong, before anything starts.
run 2 "$NR_BIN" swarm --roles bogus:1
has "$ERR" '"bogus"'
run 2 "$NR_BIN" swarm --roles scout:0
has "$ERR" "scout"
run 2 "$NR_BIN" swarm --frobnicate
has "$ERR" "--frobnicate"
run 2 "$NR_BIN" swarm --roles
has "$ERR" "--roles"
run 2 "$NR_BIN" swarm --once --wire
has "$ERR" "--wire"
if [ -e "$D/redis.sock" ]; then bad "a refused command started the server"; else ok; fi

# 2. A timed run with the wire: exits 0 and leaves stories behind.
run 0 "$NR_BIN" swarm --roles scout:1,analyst:1 --duration 3
has "$ERR" "wire on"
has "$ERR" "swarm stopped"
run 0 "$NR_BIN" ctl items --json
n=$(jq 'if type == "array" then length else (.items | length) end' "$OUT")
if [ "${n:-0}" -gt 0 ]; then ok; else bad "no stories in Redis after the run"; fi
if [ -e "$D/redis.sock" ]; then bad "the embedded server outlived the run"; else ok; fi

# 3. --once over the sample stories with every role (the sim at zero latency): ends by itself
# with every story terminal or awaiting review, and the summary line printed.
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n' >"$T/fast.conf"
export NEWSROOM_CONFIG=$T/fast.conf
run 0 "$NR_BIN" ctl ingest "$SAMPLES"
run 0 timeout 100 "$NR_BIN" swarm --once --summary
has "$OUT" "agents"
has "$OUT" "spend"
run 2 "$NR_BIN" swarm --roles approver:1 --once
has "$ERR" "--auto-approve"
run 0 "$NR_BIN" ctl items --status PENDING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" = 0 ]; then ok; else bad "stories left PENDING"; fi
run 0 "$NR_BIN" ctl items --status PROCESSING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" = 0 ]; then ok; else bad "stories left PROCESSING"; fi
for st in DEBATING CONSENSUS_REACHED PRODUCING APPROVED REJECTED; do
  run 0 "$NR_BIN" ctl items --status $st --json
  if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" = 0 ]; then ok; else bad "stories left $st"; fi
done
run 0 "$NR_BIN" ctl items --status REVIEWING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" -gt 0 ]; then ok; else bad "no story reached review"; fi

# 4. --once with some roles only waits for the statuses those roles serve: analysts alone end
# once nothing is PENDING or PROCESSING, with the debates left for another swarm.
export NEWSROOM_DATA_DIR=$T/d2
run 0 "$NR_BIN" ctl ingest "$SAMPLES"
run 0 timeout 60 "$NR_BIN" swarm --roles analyst:2 --once
run 0 "$NR_BIN" ctl items --status DEBATING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" -gt 0 ]; then ok; else bad "no story waits in DEBATING"; fi
run 0 "$NR_BIN" ctl items --status PENDING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" = 0 ]; then ok; else bad "stories left PENDING"; fi

# 5. A swarm without QA: --once ends with the writers' scripts waiting on the "qa" stage for
# another swarm, instead of waiting for ever.
export NEWSROOM_DATA_DIR=$T/d3
run 0 "$NR_BIN" ctl ingest "$SAMPLES"
run 0 timeout 60 "$NR_BIN" swarm --roles analyst:2,debater:3,moderator:1,writer:1 --once
run 0 "$NR_BIN" ctl items --status PRODUCING --json
if [ "$(jq 'if type == "array" then length else (.items | length) end' "$OUT")" -gt 0 ]; then ok; else bad "no script waits for QA"; fi

finish
