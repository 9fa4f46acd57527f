#!/usr/bin/env bash
# Chaos test 6 (issue 11): SIGKILL during a render. A `newsroom swarm --once --auto-approve`
# (every default role, sim models at zero latency, videos on) works on three ingested stories
# against a private redis-server with AOF; the moment an ffmpeg whose parent is the swarm runs
# in a render's temporary folder (found through /proc), the swarm is killed with SIGKILL.
# Then: no process the swarm started is left (every one carries a tag in its environment;
# /proc is polled with a deadline), the render's temporary folder is still there; a second
# swarm removes it as its producer starts, takes the story back once the dead producer's
# claim lapses, renders it once more and publishes it exactly once, and every story ends
# terminal. Prints the figures: stories in, out by status, lost, published twice, paid calls
# for the story after the kill, kill to helpers gone, restart to folder removed, kill to the
# story taken back and to published.
#
# The killed swarm renders with the first renderer ([video] compose = filters, preset medium),
# a few seconds a story, so the kill lands inside ffmpeg every time; the stills path's ffmpeg
# is over in well under a second. The machinery under test (process groups, PR_SET_PDEATHSIG,
# the folder lock and the sweep) is the same for both; the second swarm renders with stills.
# A dead producer's claim comes back only after its lock lapses: claim TTL (60 s, not
# configurable on this branch) + [video] render_timeout_s, set to 15 s here to keep it short.
. "$(dirname "$0")/../integration/lib.sh" "$1"

SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
D=$T/d
export NEWSROOM_DATA_DIR=$D NEWSROOM_PUBLISH_DIR=$T/pub
unset NEWSROOM_FFMPEG # lib.sh turns rendering off for the other swarm tests; this one renders
SWARM1= SWARM2=
trap 'for p in $SWARM1 $SWARM2; do kill -KILL "$p" 2>/dev/null; done; cleanup' EXIT

now_ms() { date +%s%3N; }

# The private redis-server, with AOF as a real deployment has it.
mkdir -p "$T/r"
redis-server --port 0 --unixsocket "$T/r/redis.sock" --unixsocketperm 700 --dir "$T/r" \
  --appendonly yes --save '' --pidfile "$T/r/redis.pid" --logfile "$T/r/redis.log" &
redis_up() { [ "$(redis-cli -s "$T/r/redis.sock" ping 2>/dev/null)" = PONG ]; }
await "the private redis-server" 10 redis_up || { finish; exit 1; }
export REDIS_URL=unix://$T/r/redis.sock
rcli() { redis-cli -s "$T/r/redis.sock" "$@"; }

conf() { # conf FILE COMPOSE PRESET
  printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n[video]\ntemplate = %s/config/video.conf\ncompose = %s\npreset = %s\nrender_timeout_s = 15\n' \
    "$SRC" "$2" "$3" >"$1"
}
conf "$T/killed.conf" filters medium
conf "$T/restart.conf" stills ultrafast

head -3 "$SRC/config/sample_stories.jsonl" >"$T/stories.jsonl"
NEWSROOM_CONFIG=$T/killed.conf run 0 "$NR_BIN" ctl ingest "$T/stories.jsonl"
stories_in=$(wc -l <"$T/stories.jsonl")

# Every process a swarm starts inherits its tag; none should outlive it.
tag1=chaos-render-$$-1
tag2=chaos-render-$$-2
tagged() { grep -lsaF "NEWSROOM_CHAOS_TAG=$1" /proc/[0-9]*/environ 2>/dev/null | grep -q .; }
running() { # a pid that runs (not a zombie)
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [ "${s:0:1}" != Z ]
}

# 1. The first swarm, killed while an ffmpeg of its own renders in a temporary folder.
NEWSROOM_CONFIG=$T/killed.conf NEWSROOM_CHAOS_TAG=$tag1 \
  "$NR_BIN" swarm --once --auto-approve >"$T/swarm1.out" 2>"$T/swarm1.err" &
SWARM1=$!
rendering() {
  local pid comm cwd
  while read -r pid comm; do
    [ "$comm" = ffmpeg ] || continue
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
    case $cwd in "$D"/packages/.*)
      echo "$pid $cwd" >"$T/render"
      return 0
      ;;
    esac
  done < <(ps -o pid=,comm= --ppid "$SWARM1")
  return 1
}
if ! await "an ffmpeg of the swarm rendering" 180 rendering; then
  cat "$T/swarm1.err" >&2
  finish
  exit 1
fi
read -r ffmpeg_pid folder <"$T/render"
kill -KILL "$SWARM1"
t_kill=$(now_ms)
wait "$SWARM1" 2>/dev/null
SWARM1=
name=${folder##*/.}
id=${name%.*}
echo "killed the swarm while ffmpeg $ffmpeg_pid rendered story $id in $folder"
no_helpers() { ! tagged "$tag1"; }
await "no process of the killed swarm left" 10 no_helpers
t_gone=$(now_ms)
if running "$ffmpeg_pid"; then bad "ffmpeg $ffmpeg_pid outlived the swarm"; else ok; fi
if [ -d "$folder" ]; then ok; else bad "the killed render left no folder (did it finish first?)"; fi
paid_before=$(rcli XRANGE nr:cost:usage - + | grep -cxF -- "$id")

# 2. The swarm again: its producer removes the folder at once; the story comes back when the
# dead producer's claim lapses, is rendered once more and published once.
NEWSROOM_CONFIG=$T/restart.conf NEWSROOM_CHAOS_TAG=$tag2 \
  "$NR_BIN" swarm --once --auto-approve >"$T/swarm2.out" 2>"$T/swarm2.err" &
SWARM2=$!
t_restart=$(now_ms)
folder_gone() { [ ! -e "$folder" ]; }
await "the leftover temporary folder removed" 30 folder_gone
t_swept=$(now_ms)
swarm2_done() { ! running "$SWARM2"; }
if ! await "the restarted swarm to finish" 300 swarm2_done; then
  cat "$T/swarm2.err" >&2
fi
wait "$SWARM2"
rc=$?
SWARM2=
if [ "$rc" -eq 0 ]; then ok; else bad "the restarted swarm exited $rc"; fi
no_helpers2() { ! tagged "$tag2"; }
await "no process of the restarted swarm left" 10 no_helpers2

# The story's moves, from the blackboard's events stream: id, to and time of every move.
rcli --json XRANGE nr:bb:events - + >"$T/events.json"
jq -r '.[] | .[1] as $f | [range(0; $f | length; 2) | {($f[.]): $f[. + 1]}] | add
       | select(.k == "move" or .k == "decide" or .k == "failed" or .k == "retry" or .k == "take" or .k == "claim")
       | [.id, .k, (.to // ""), (.t // "0")] | @tsv' "$T/events.json" >"$T/moves.tsv"
published=$(awk -F'\t' -v id="$id" '$1 == id && $3 == "PUBLISHED"' "$T/moves.tsv" | wc -l)
reviewed=$(awk -F'\t' -v id="$id" '$1 == id && $3 == "REVIEWING"' "$T/moves.tsv" | wc -l)
if [ "$published" -eq 1 ]; then ok; else bad "story $id published $published times"; fi
if [ "$reviewed" -eq 1 ]; then ok; else bad "story $id reached review $reviewed times (rendered once more: 1)"; fi
t_back=$(awk -F'\t' -v id="$id" -v k="$t_kill" '$1 == id && $4 > k {print $4; exit}' "$T/moves.tsv")
t_pub=$(awk -F'\t' -v id="$id" '$1 == id && $3 == "PUBLISHED" {print $4; exit}' "$T/moves.tsv")
run 0 "$NR_BIN" ctl item "$id" --json
if [ "$(jq -r '.status' "$OUT")" = PUBLISHED ]; then ok; else bad "story $id is $(jq -r .status "$OUT")"; fi
if [ "$(jq -r '.body.package.kind' "$OUT")" = video ] && [ -s "$(jq -r '.body.package.mp4' "$OUT")" ]; then ok; else bad "story $id has no rendered video"; fi
if [ "$(jq -r '.body.package.folder' "$OUT")" = "$(realpath "$D/packages/$id")" ]; then ok; else bad "story $id's package is not in its folder"; fi
if [ -s "$T/pub/$id/video.mp4" ]; then ok; else bad "story $id's video was not published"; fi
leftovers=$(find "$D/packages" -mindepth 1 -maxdepth 1 -name '.*' | wc -l)
if [ "$leftovers" -eq 0 ]; then ok; else bad "$leftovers temporary folders left in $D/packages"; fi

# Every story ends terminal; none is published twice.
declare -A out
lost=0
for sid in $(jq -r '.id' "$T/stories.jsonl"); do
  "$NR_BIN" ctl item "$sid" --json >"$OUT" 2>"$ERR"
  st=$(jq -r '.status' "$OUT")
  out[$st]=$((${out[$st]:-0} + 1))
  case $st in PUBLISHED | ARCHIVED | FAILED) ;; *) lost=$((lost + 1)) ;; esac
done
twice=$(awk -F'\t' '$3 == "PUBLISHED" {n[$1]++} END {c = 0; for (i in n) if (n[i] > 1) c++; print c}' "$T/moves.tsv")
if [ "$lost" -eq 0 ]; then ok; else bad "$lost stories not terminal"; fi
if [ "$twice" -eq 0 ]; then ok; else bad "$twice stories published twice"; fi
paid_after=$(($(rcli XRANGE nr:cost:usage - + | grep -cxF -- "$id") - paid_before))

summary=""
for st in "${!out[@]}"; do summary="$summary $st ${out[$st]}"; done
printf 'chaos render: stories in %d; out:%s; lost %d; published twice %d\n' \
  "$stories_in" "$summary" "$lost" "$twice"
printf 'chaos render: story %s: paid calls %d before the kill, %d after (a reclaim from PRODUCING drafts again)\n' \
  "$id" "$paid_before" "$paid_after"
printf 'chaos render: kill -> helpers gone %d ms; restart -> folder removed %d ms; kill -> story taken back %.1f s; kill -> published %.1f s\n' \
  "$((t_gone - t_kill))" "$((t_swept - t_restart))" \
  "$(awk -v a="${t_back:-0}" -v k="$t_kill" 'BEGIN {print (a - k) / 1000}')" \
  "$(awk -v a="${t_pub:-0}" -v k="$t_kill" 'BEGIN {print (a - k) / 1000}')"
finish
