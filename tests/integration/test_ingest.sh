#!/usr/bin/env bash
# `ctl ingest` and `swarm --once` with feeds, from the shell, on private data directories
# (embedded Redis): a line past the 4 MB limit refused with its number while the lines around
# it go in; empty input refused (a file, white space, standard input); a feed told from JSON
# Lines by XML's own rules (UTF-32 and UTF-16 without a byte order mark, a BOM, leading white
# space), also on standard input; a folder of feeds where one bad file fails alone; the
# feed record on each story; `ctl sources` with a folder and its files; and `swarm --once`
# with feeds ending only once every due source has been polled and its items written.
. "$(dirname "$0")/lib.sh" "$1"

SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
FEEDS=$SRC/tests/feeds
count() { jq 'if type == "array" then length else (.items | length) end' "$OUT"; }

# 1. Lines: the long one refused, unread; empty inputs refused.
export NEWSROOM_DATA_DIR=$T/d1
{
  echo '{"id": "b1", "title": "Before the long line", "content": "c", "source": "s"}'
  printf '{"title": "long", "content": "%s", "source": "x"}\n' "$(head -c 10485760 /dev/zero | tr '\0' 'x')"
  echo '{"id": "b2", "title": "After the long line", "content": "c", "source": "s"}'
} >"$T/long.jsonl"
run 1 "$NR_BIN" ctl ingest "$T/long.jsonl"
has "$OUT" "line 2: longer than the 4194304 byte limit of a line"
has "$OUT" "accepted 2, updated 0, merged 0, duplicate 0, invalid 1"
: >"$T/empty.jsonl"
run 1 "$NR_BIN" ctl ingest "$T/empty.jsonl"
has "$ERR" "empty.jsonl is empty"
printf ' \n\t\n\n' >"$T/blank.jsonl"
run 1 "$NR_BIN" ctl ingest "$T/blank.jsonl"
has "$ERR" "blank.jsonl is empty"
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/spaces.jsonl"
run 1 "$NR_BIN" ctl ingest "$T/spaces.jsonl"
has "$ERR" "is empty"
run 1 "$NR_BIN" ctl ingest - </dev/null
has "$ERR" "standard input is empty"
run 1 "$NR_BIN" ctl ingest "$FEEDS/broken/empty.xml"
has "$ERR" "is empty"

# 2. Feeds told by their first bytes, from files and from standard input.
export NEWSROOM_DATA_DIR=$T/d2
for f in utf32le.xml utf32be.xml utf32le_bom.xml utf16le_nobom.xml utf16be_nobom.xml utf16.xml; do
  run 0 "$NR_BIN" ctl ingest --json "$FEEDS/$f"
  if [ "$(jq '.accepted + .updated + .merged + .duplicate' "$OUT")" = 1 ] && [ "$(jq .invalid "$OUT")" = 0 ]; then ok; else bad "$f: not one item"; fi
  hasnt "$ERR" "invalid JSON"
done
{ printf '\n\n  '; cat "$FEEDS/rss2_ns.xml"; } | run 0 "$NR_BIN" ctl ingest --json -
if jq -e '.accepted == 2' "$OUT" >/dev/null; then ok; else bad "a namespaced RSS 2.0 feed on standard input"; fi
run 0 "$NR_BIN" ctl ingest "$FEEDS/atom_self.xml"
run 0 "$NR_BIN" ctl items --json
if jq -e '[.items[] | select(.title == "A")] | length == 1' "$OUT" >/dev/null; then ok; else bad "the self-link feed's item"; fi
id=$(jq -r '.items[] | select(.title == "A") | .id' "$OUT")
run 0 "$NR_BIN" ctl item --json "$id"
if jq -e '.body.url == "https://example.com/blog/2003/atom03" and .body.feed.date == "feed" and .body.feed.text == "feed" and .body.feed.guid == "urn:x"' "$OUT" >/dev/null; then ok; else bad "a file's relative link and the feed record: $(cat "$OUT")"; fi
run 0 "$NR_BIN" ctl ingest "$FEEDS/dates.xml"
run 0 "$NR_BIN" ctl items --json --limit 100
if jq -e '[.items[] | select(.title == "No date at all")] | length == 1' "$OUT" >/dev/null; then ok; else bad "the dateless item"; fi
id=$(jq -r '.items[] | select(.title == "No date at all") | .id' "$OUT")
run 0 "$NR_BIN" ctl item --json "$id"
if jq -e '.body.feed.date == "first_seen" and .body.published > 0' "$OUT" >/dev/null; then ok; else bad "first seen: $(cat "$OUT")"; fi
run 1 "$NR_BIN" ctl ingest "$FEEDS/broken/rss_no_channel.xml"
has "$OUT" "<rss> has no <channel>"

# 3. A folder: every file its own document, the bad one failing alone.
export NEWSROOM_DATA_DIR=$T/d3
mkdir -p "$T/folder"
cp "$FEEDS/rss2.xml" "$FEEDS/atom.xml" "$FEEDS/rss090.xml" "$T/folder/"
cp "$FEEDS/broken/truncated.xml" "$T/folder/zz-truncated.xml"
run 1 "$NR_BIN" ctl ingest --json "$T/folder"
if jq -e '.accepted == 7 and .invalid == 1 and (.errors | length) == 1 and (.errors[0].document | endswith("zz-truncated.xml"))' "$OUT" >/dev/null; then ok; else bad "folder ingest: $(cat "$OUT")"; fi

# 4. swarm --once with the folder as a feed source: every file polled, every item written, the
# bad file's error its own; then again, with nothing due, it ends at once.
export NEWSROOM_DATA_DIR=$T/d4 NEWSROOM_FEEDS=$T/folder
run 0 timeout 60 "$NR_BIN" swarm --roles scout:1 --once
run 0 "$NR_BIN" ctl items --json --limit 100
if [ "$(count)" = 7 ]; then ok; else bad "swarm --once wrote $(count) of 7 items"; fi
run 0 "$NR_BIN" ctl sources --json
if jq -e --arg f "$T/folder" '(.[] | select(.source == $f) | .files) == 4 and ([.[] | select(.status == "ok" and .files == -1)] | length) == 3 and ([.[] | select(.status == "error")] | length) == 1' "$OUT" >/dev/null; then ok; else bad "sources: $(cat "$OUT")"; fi
run 0 "$NR_BIN" ctl sources
has "$OUT" "a folder of 4 files"
has "$OUT" "not well-formed"
run 0 timeout 30 "$NR_BIN" swarm --roles scout:1 --once
unset NEWSROOM_FEEDS

finish
