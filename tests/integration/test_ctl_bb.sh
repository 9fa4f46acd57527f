#!/usr/bin/env bash
# The blackboard's ctl verbs against the test Redis (database 6, flushed first): ingest with
# every kind of bad line refused by line number while the good ones go in; items and item,
# plain and --json; approve and reject, refused with the reason when the item is not awaiting
# review, audited; and two operators deciding one story at once: exactly one wins, the other
# exits 1 and says who decided.
. "$(dirname "$0")/lib.sh" "$1"

export REDIS_URL="redis://:$NEWSROOM_TEST_REDIS_PASSWORD@127.0.0.1:$NEWSROOM_TEST_REDIS_PORT/6"
rcli() { REDISCLI_AUTH=$NEWSROOM_TEST_REDIS_PASSWORD redis-cli -p "$NEWSROOM_TEST_REDIS_PORT" -n 6 "$@"; }
rcli flushdb >/dev/null
walk() { "$NEWSROOM_BB_TOOL" walk "$1" "$2"; }

# --- ingest: good lines in, bad lines refused with their line numbers ---
F=$T/news.jsonl
{
  echo '{"id": "s1", "title": "Storm hits coast", "content": "Winds of 120 km/h hit the coast on Tuesday, officials said.", "source": "Wire", "topics": ["weather"]}'
  echo '{"id": "s2", "title": "Markets rally", "content": "Stocks rose.", "source": "Desk", "published": "2026-11-28T09:00:00Z"}'
  echo ''
  echo '{"id": "s3", "title": "STORM hits coast!", "content": "winds of 120 kmh hit the coast on tuesday officials said", "source": "Other"}'
  echo '{"title": "broken", "content": '
  echo '{"content": "no title", "source": "x"}'
  echo '{"title": 42, "content": "c", "source": "x"}'
  printf '{"title": "big", "content": "%s", "source": "x"}\n' "$(head -c 2097152 /dev/zero | tr '\0' 'x')"
  printf '{"title": "bad \xff byte", "content": "c", "source": "x"}\n'
  printf '{"title": "raw \x01 control", "content": "c", "source": "x"}\n'
  echo '{"title": "escaped \u001b[2J control", "content": "c", "source": "x"}'
  echo '{"id": "s4", "title": "Council votes", "content": "The council voted.", "source": "Local"}'
  echo '{"id": "s2", "title": "Markets rally further", "content": "Stocks rose again.", "source": "Desk"}'
} >"$F"
run 1 "$NR_BIN" ctl ingest "$F"
# s3 is s1 in other words from another outlet: merged into it as a further source; the second
# s2 is the same story updated at its source: its text revised (it is still PENDING).
has "$OUT" "accepted 3, updated 1, merged 1, duplicate 0, invalid 7"
has "$OUT" "line 5: invalid JSON"
has "$OUT" "line 6: title: missing"
has "$OUT" "line 7: title: expected a string, got an integer"
has "$OUT" "line 8: content: 2097152 bytes, more than the 1048576 allowed"
has "$OUT" "line 9: invalid JSON"
has "$OUT" "line 10: invalid JSON"
has "$OUT" "line 11: title: contains a control character"
hasnt "$OUT" "line 4:"
if LC_ALL=C grep -q "$(printf '[\x01\xff]')" "$OUT"; then bad "raw bad bytes echoed"; else ok; fi
run 1 "$NR_BIN" ctl ingest --json "$F"
# Again: the same identities, s2's two versions each an update of the other.
if jq -e '.accepted == 0 and .updated == 2 and .merged == 0 and .duplicate == 3 and .invalid == 7 and (.errors | map(.line)) == [5,6,7,8,9,10,11] and (.duplicates | map(.existing)) == ["s1","s1","s4"] and (.updates | map(.line)) == [2,13]' "$OUT" >/dev/null; then ok; else bad "ingest --json counts"; fi
# Nothing half-written: only the good items exist.
if [ "$(rcli zcard nr:bb:st:PENDING)" = 3 ]; then ok; else bad "PENDING holds $(rcli zcard nr:bb:st:PENDING) items, not 3"; fi
if [ "$(rcli exists nr:bb:item:s3)" = 0 ]; then ok; else bad "the merged s3 was written as a story"; fi
run 0 "$NR_BIN" ctl item s1 --json
if jq -e '.body.sources[0].id == "s3" and .body.sources[0].source == "Other"' "$OUT" >/dev/null; then ok; else bad "s3 is not a source of s1"; fi
run 0 "$NR_BIN" ctl item s2 --json
if jq -e '.body.title == "Markets rally further" and .body.updated_at_source.applied == true' "$OUT" >/dev/null; then ok; else bad "s2 not revised at source"; fi
printf '{"id": "s5", "title": "From stdin", "content": "Piped.", "source": "Pipe"}\n' |
  run 0 "$NR_BIN" ctl ingest -
has "$OUT" "accepted 1, updated 0, merged 0, duplicate 0, invalid 0"
run 2 "$NR_BIN" ctl ingest "$T/missing.jsonl"
has "$ERR" "$T/missing.jsonl"
run 2 "$NR_BIN" ctl ingest

# --- items and item ---
run 0 "$NR_BIN" ctl items --json
if jq -e '(.items | length) == 4 and all(.items[]; .id and .section == "RAW_FEED" and .status == "PENDING" and .title and .source and .created_ms > 0 and .updated_ms > 0)' "$OUT" >/dev/null; then ok; else bad "ctl items --json"; fi
run 0 "$NR_BIN" ctl items --status PENDING --limit 2 --json
if jq -e '(.items | length) == 2 and (.next | type) == "string"' "$OUT" >/dev/null; then ok; else bad "ctl items paging"; fi
cursor=$(jq -r .next "$OUT")
first=$(jq -r '.items[0].id' "$OUT")
run 0 "$NR_BIN" ctl items --status PENDING --limit 10 --after "$cursor" --json
if jq -e "(.items | length) == 2 and .next == null and all(.items[]; .id != \"$first\")" "$OUT" >/dev/null; then ok; else bad "ctl items --after"; fi
run 1 "$NR_BIN" ctl items --status PENDING --after nonsense
has "$ERR" "bad cursor"
run 0 "$NR_BIN" ctl items --section RAW_FEED
has "$OUT" "Storm hits coast"
run 2 "$NR_BIN" ctl items --status SOMEWHERE
has "$ERR" 'unknown status "SOMEWHERE"'
run 2 "$NR_BIN" ctl items --limit 0
run 0 "$NR_BIN" ctl item s1 --json
if jq -e '.id == "s1" and .status == "PENDING" and .body.topics == ["weather"] and (.hash | length) == 64' "$OUT" >/dev/null; then ok; else bad "ctl item --json"; fi
run 0 "$NR_BIN" ctl item s2
has "$OUT" "PENDING in RAW_FEED"
has "$OUT" "Markets rally"
run 1 "$NR_BIN" ctl item nope
has "$ERR" 'no item "nope"'

# --- approve and reject ---
run 1 "$NR_BIN" ctl approve s1
has "$ERR" "cannot move s1 from PENDING to APPROVED"
run 1 "$NR_BIN" ctl approve nope
has "$ERR" "no item nope"
run 2 "$NR_BIN" ctl reject s1
has "$ERR" "--reason"
walk s1 REVIEWING
walk s2 REVIEWING
run 0 "$NR_BIN" ctl approve s1 --note "solid"
has "$OUT" "approved s1"
run 0 "$NR_BIN" ctl item s1 --json
if jq -e '.status == "APPROVED" and .section == "REVIEW_QUEUE" and (.decided_by | test("@")) and .decided_ms > 0' "$OUT" >/dev/null; then ok; else bad "approval not recorded"; fi
run 1 "$NR_BIN" ctl reject s1 --reason "too late"
has "$ERR" "already approved by"
has "$ERR" "(it is now APPROVED)"
# One error per refusal: the line that says who decided it, and nothing else.
[ "$(wc -l <"$ERR")" = 1 ] && ok || bad "a refused reject printed $(wc -l <"$ERR") lines: $(cat "$ERR")"
run 0 "$NR_BIN" ctl reject s2 --reason "unverified claim" --json
if jq -e '.status == "REJECTED" and .id == "s2"' "$OUT" >/dev/null; then ok; else bad "reject --json"; fi
# Both decisions are in the audit stream, with who, what and why.
if rcli xrange nr:audit - + | tr '\n' ' ' | grep -q 'what approve item s1 reason solid'; then ok; else bad "approve not audited"; fi
if rcli xrange nr:audit - + | tr '\n' ' ' | grep -q 'what reject item s2 reason unverified claim'; then ok; else bad "reject not audited"; fi
# A refused decision leaves no audit record.
if [ "$(rcli xlen nr:audit)" = 2 ]; then ok; else bad "audit has $(rcli xlen nr:audit) records, not 2"; fi

# Two operators at once on one story, several times: exactly one wins each time.
for i in 1 2 3 4 5 6; do
  printf '{"id": "race%d", "title": "Race %d", "content": "Body %d.", "source": "R"}\n' "$i" "$i" "$i" |
    "$NR_BIN" ctl ingest - >/dev/null
  walk "race$i" REVIEWING
  "$NR_BIN" ctl approve "race$i" >"$T/a.out" 2>"$T/a.err" &
  pa=$!
  "$NR_BIN" ctl reject "race$i" --reason "no" >"$T/r.out" 2>"$T/r.err" &
  pr=$!
  wait $pa
  ra=$?
  wait $pr
  rr=$?
  if { [ $ra = 0 ] && [ $rr = 1 ]; } || { [ $ra = 1 ] && [ $rr = 0 ]; }; then ok; else bad "race $i: approve exited $ra, reject $rr"; fi
  loser=$T/a.err
  [ $ra = 0 ] && loser=$T/r.err
  [ "$(wc -l <"$loser")" = 1 ] && ok || bad "race $i: the loser printed more than one error: $(cat "$loser")"
  if grep -Eq "already (approved|rejected) by .*@.* at " "$loser"; then ok; else bad "race $i: the loser does not say what was decided: $(cat "$loser")"; fi
done

# --- reject --revise: the reason is the writer's note, kept with the decision ---
printf '{"id": "rv1", "title": "Revise me", "content": "Body.", "source": "R"}\n' | "$NR_BIN" ctl ingest - >/dev/null
walk rv1 REVIEWING
run 2 "$NR_BIN" ctl reject rv1 --revise
has "$ERR" "--reason TEXT is required"
run 2 "$NR_BIN" ctl reject rv1 --reason "revise: sneaky"
has "$ERR" "kept for --revise"
run 2 "$NR_BIN" ctl approve rv1 --revise
run 0 "$NR_BIN" ctl reject rv1 --revise --reason "tighten the lead"
has "$OUT" "sent back for revision rv1"
run 0 "$NR_BIN" ctl item rv1 --json
if jq -e '.status == "REJECTED" and .reason == "revise: tighten the lead" and .body.review.decision == "revise" and .body.review.reason == "tighten the lead" and (.body.review.by | test("@"))' "$OUT" >/dev/null; then ok; else bad "revise not recorded"; fi
if rcli xrange nr:audit - + | tr '\n' ' ' | grep -q 'what revise item rv1 reason tighten the lead'; then ok; else bad "revise not audited"; fi
# A second decision is refused, naming the first.
run 1 "$NR_BIN" ctl approve rv1
has "$ERR" "already sent back for revision by"
run 1 "$NR_BIN" ctl approve s2
has "$ERR" "already rejected by"

# --- ctl item shows the decisions the agents recorded, made safe for the terminal ---
rcli hset nr:bb:item:rv1 \
  f:analysis '{"newsworthiness": 0.82, "credibility": 0.7, "summary": "Evil \u001b[2J summary", "confidence": 0.64, "reasoning": "worth covering", "decision": "cover", "by": "analyst-1"}' \
  f:consensus '{"score": 0.8, "threshold": 0.6, "reached": true, "reason": "most agree", "votes": [{"agent": "debater-1", "vote": "yes", "confidence": 0.9, "reasoning": "solid"}, {"agent": "debater-2", "vote": 42, "confidence": "odd"}], "by": "moderator-1"}' \
  f:script '{"draft": "d", "final": "f", "words": 120, "revisions": [{"number": 1, "type": "clarity", "improvement": 0.12, "confidence": 0.7, "by": "writer-1"}], "by": "writer-1"}' \
  f:qa '[{"round": 1, "score": 0.85, "passed": true, "issues": ["lead too long"], "confidence": 0.8, "reasoning": "ok", "by": "qa-1"}, "odd"]' \
  f:package '{"kind": "storyboard", "duration_s": 42.5, "narration": "n", "shots": [{}, {}], "captions_srt": "1\n", "words": 120, "by": "producer-1"}' \
  f:publish '"not an object"' >/dev/null
run 0 "$NR_BIN" ctl item rv1
has "$OUT" "decisions"
has "$OUT" "analysis    cover (newsworthiness 0.82, credibility 0.70, confidence 0.64) by analyst-1"
has "$OUT" "consensus   reached, score 0.80 (threshold 0.60) by moderator-1"
has "$OUT" "vote debater-1: yes (confidence 0.90) solid"
has "$OUT" "vote debater-2: 42 (confidence odd)"
has "$OUT" "script      120 words, 1 revision, by writer-1"
has "$OUT" "revision 1: clarity (improvement 0.12, confidence 0.70) by writer-1"
has "$OUT" "qa          round 1: passed, score 0.85 (confidence 0.80) by qa-1"
has "$OUT" "issue: lead too long"
has "$OUT" "package     storyboard, 42.50 s, 120 words, 2 shots, captions 2 bytes, by producer-1"
has "$OUT" "review      revise by"
has "$OUT" ": tighten the lead"
has "$OUT" "summary: Evil ?[2J summary"
hasnt "$OUT" "publish     "
if LC_ALL=C grep -q "$(printf '\033')" "$OUT"; then bad "ctl item printed a raw escape"; else ok; fi

finish
