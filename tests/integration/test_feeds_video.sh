#!/usr/bin/env bash
# Real input to real output: the sample feeds of config/feeds go in through `ctl ingest`, a
# `newsroom swarm --once --auto-approve` runs every role with ffmpeg and espeak-ng, and what
# comes out is published packages with real MP4s: ffprobe finds one H.264 stream at 1280x720
# and one audio stream in each, beside captions and a PNG thumbnail (embedded Redis).
. "$(dirname "$0")/lib.sh" "$1"

SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
export NEWSROOM_DATA_DIR=$T/d NEWSROOM_PUBLISH_DIR=$T/pub
unset NEWSROOM_FFMPEG # lib.sh turns rendering off for the other swarm tests; this one renders
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n[video]\npreset = ultrafast\ntemplate = %s/config/video.conf\n' "$SRC" >"$T/n.conf"
export NEWSROOM_CONFIG=$T/n.conf

for f in "$SRC"/config/feeds/*; do
  run 0 "$NR_BIN" ctl ingest "$f"
done
run 0 timeout 300 "$NR_BIN" swarm --once --auto-approve
run 0 "$NR_BIN" ctl items --status PUBLISHED --json
ids=$(jq -r 'if type == "array" then .[].id else .items[].id end' "$OUT")
if [ -n "$ids" ]; then ok; else bad "no story from the sample feeds was published"; fi
for id in $ids; do
  dir=$T/pub/$id
  mp4=$(find "$dir" -name '*.mp4' | head -1)
  if [ -n "$mp4" ]; then ok; else bad "$id: no MP4 in $dir"; continue; fi
  ffprobe -v error -show_entries stream=codec_type,codec_name,width,height -of json "$mp4" >"$OUT" 2>"$ERR"
  if [ "$(jq '[.streams[] | select(.codec_type == "video" and .codec_name == "h264" and .width == 1280 and .height == 720)] | length' "$OUT")" = 1 ]; then ok; else bad "$id: not one H.264 1280x720 stream"; fi
  if [ "$(jq '[.streams[] | select(.codec_type == "audio")] | length' "$OUT")" = 1 ]; then ok; else bad "$id: not one audio stream"; fi
  if [ -s "$dir/captions.srt" ]; then ok; else bad "$id: no captions"; fi
  png=$(find "$dir" -name '*.png' | head -1)
  if [ -n "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then ok; else bad "$id: no PNG thumbnail"; fi
done
finish
