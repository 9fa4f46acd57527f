#!/usr/bin/env bash
# The vector memory's ctl verbs against the shared test Redis (database 42, flushed first) with
# the local backend, and the test Chroma: ingest of the project's dedup corpus (rewordings
# merged as further sources, counted apart), ctl search (the story first, with its own title,
# status now and its merged sources), ctl memories (empty, --json), the usage errors, the memory
# turned off, and a Chroma that does not answer (search refused with its address; ingest goes
# on by identity and says so).
. "$(dirname "$0")/lib.sh" "$1"

export REDIS_URL="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT/42"
export NEWSROOM_MEMORY_PREFIX="ctl$$-"
rcli() { REDISCLI_AUTH=$NEWSROOM_TEST_REDIS_PASSWORD redis-cli -p "$NEWSROOM_TEST_REDIS_PORT" -n 42 "$@"; }
rcli flushdb >/dev/null
CORPUS=$NEWSROOM_SOURCE_DIR/tests/memory/dedup_corpus.jsonl

# --- local backend ---
run 0 "$NR_BIN" ctl ingest "$CORPUS"
has "$OUT" "accepted 36, updated 0, merged 22, duplicate 0, invalid 0"
run 0 "$NR_BIN" ctl ingest --json "$CORPUS"
if jq -e '.accepted == 0 and .merged == 0 and .duplicate == 58' "$OUT" >/dev/null; then ok; else bad "ingest again"; fi
run 0 "$NR_BIN" ctl search "measles cases rise in Europe as vaccination falls" --n 3 --json
if jq -e '(.results | length) == 3 and .results[0].story == "e06-wire" and .results[0].title == "WHO reports 40 percent rise in measles cases in Europe" and .results[0].status_now == "PENDING" and .results[0].sources_merged == 3 and .results[0].similarity > .results[1].similarity' "$OUT" >/dev/null; then ok; else bad "ctl search --json"; fi
run 0 "$NR_BIN" ctl search "Storm Elin Bergen power"
has "$OUT" "e01-wire"
has "$OUT" "+3 sources"
run 0 "$NR_BIN" ctl memories writer
has "$OUT" "no memories for writer"
run 0 "$NR_BIN" ctl memories analyst --query "storm" --json
if jq -e '.agent == "analyst" and .query == "storm" and .memories == []' "$OUT" >/dev/null; then ok; else bad "ctl memories --json"; fi
if [ "$(rcli hlen "nr:mem:c:ctl$$-news_articles:v")" = 58 ]; then ok; else bad "news_articles holds $(rcli hlen "nr:mem:c:ctl$$-news_articles:v") records, not 58"; fi
run 2 "$NR_BIN" ctl search
run 2 "$NR_BIN" ctl search "x" --n 0
has "$ERR" "--n"
run 2 "$NR_BIN" ctl memories
NEWSROOM_MEMORY=off run 2 "$NR_BIN" ctl search "storm"
has "$ERR" "off"
NEWSROOM_MEMORY=elsewhere run 2 "$NR_BIN" ctl search "storm"
has "$ERR" "NEWSROOM_MEMORY"

# --- Chroma ---
export NEWSROOM_MEMORY=chroma CHROMA_HOST=$NEWSROOM_TEST_CHROMA_HOST CHROMA_PORT=$NEWSROOM_TEST_CHROMA_PORT
rcli flushdb >/dev/null
run 0 "$NR_BIN" ctl ingest "$CORPUS"
has "$OUT" "accepted 36, updated 0, merged 22, duplicate 0, invalid 0"
run 0 "$NR_BIN" ctl search "measles cases rise in Europe as vaccination falls" --n 1 --json
if jq -e '.results[0].story == "e06-wire" and (.memory | startswith("chroma"))' "$OUT" >/dev/null; then ok; else bad "ctl search on Chroma"; fi
# A Chroma that does not answer: search refused naming it; ingest goes on by identity alone.
CHROMA_PORT=1 CHROMA_AUTH_TOKEN=tok-s3cret run 1 "$NR_BIN" ctl search "storm"
has "$ERR" "Chroma at http://127.0.0.1:1 is unreachable"
hasnt "$ERR" "tok-s3cret"
rcli flushdb >/dev/null
CHROMA_PORT=1 run 0 "$NR_BIN" ctl ingest "$CORPUS"
has "$ERR" "no semantic deduplication"
has "$OUT" "accepted 58, updated 0, merged 0, duplicate 0, invalid 0"
finish
