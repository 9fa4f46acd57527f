#!/usr/bin/env bash
# Real input to real output: the sample feeds of config/feeds go in through `ctl ingest`, a
# `newsroom swarm --once --auto-approve` runs every role with ffmpeg and espeak-ng, and what
# comes out is published packages with real MP4s: ffprobe finds one H.264 stream at 1280x720
# and one audio stream in each, beside captions and a PNG thumbnail, and each manifest says
# where every shot's picture came from (the sample feeds carry pictures drawn by the project:
# some shots show them, credited; the figures make charts; the rest are text slides) (embedded
# Redis).
. "$(dirname "$0")/lib.sh" "$1"

SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
export NEWSROOM_DATA_DIR=$T/d NEWSROOM_PUBLISH_DIR=$T/pub
unset NEWSROOM_FFMPEG # lib.sh turns rendering off for the other swarm tests; this one renders
printf '[providers]\nsim_latency_fast_ms = 0\nsim_latency_balanced_ms = 0\nsim_latency_premium_ms = 0\n[video]\npreset = ultrafast\ntemplate = %s/config/video.conf\n' "$SRC" >"$T/n.conf"
export NEWSROOM_CONFIG=$T/n.conf

for f in "$SRC"/config/feeds/*; do
  [ -f "$f" ] || continue # images/: the feeds' pictures
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
  # Every shot of the manifest says where its picture came from, and a shown picture names its
  # provider, its link of the chain and its credit.
  man=$dir/manifest.json
  if [ "$(jq '[.shots[] | select(.picture.source == null)] | length' "$man")" = 0 ] &&
    [ "$(jq '.shots | length' "$man")" -gt 2 ]; then ok; else bad "$id: a shot without its source"; fi
  if [ "$(jq '[.shots[] | select(.picture.source != "text" and (.picture.provider == null or .picture.link == null or .picture.credit == ""))] | length' "$man")" = 0 ]; then ok; else bad "$id: a picture without its provider, link or credit"; fi
  jq -r '.shots[].picture.source' "$man" >>"$T/sources"
done
# Across the run: the feeds' own pictures and a chart of the stories' figures were shown.
has "$T/sources" feed
has "$T/sources" chart
has "$T/sources" text
finish
