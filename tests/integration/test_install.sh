#!/usr/bin/env bash
# cmake --install into a temporary DESTDIR, then the installed binary run from there: every file
# in its usual place (binary, themes, shared configuration files and every file
# config/docker-compose.yml mounts, the default configuration and
# the swarm's environment file with their modes, the man page, the systemd units with the
# installed paths, logrotate rules); the installed binary reads its default configuration and
# finds its share directory from any working directory, and still does when the tree is moved;
# it runs a command on its embedded Redis; a reinstall keeps an edited configuration; the man
# page renders. The build-tree binary finds the source tree's files from anywhere.
# Arguments: the newsroom binary, the build directory.
. "$(dirname "$0")/lib.sh" "$1"
BUILD=$2
SRC=${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}
SRC=$(cd "$SRC" && pwd)
PREFIX=/opt/newsroom
ROOT=$T/root

run 0 env DESTDIR="$ROOT" cmake --install "$BUILD" --prefix "$PREFIX"
P=$ROOT$PREFIX
for f in bin/newsroom share/newsroom/themes/dark.theme share/newsroom/themes/light.theme \
  share/newsroom/config/video.conf share/newsroom/config/pricing.conf \
  share/newsroom/config/sample_stories.jsonl share/newsroom/config/feeds/newsroom-wire.rss \
  share/newsroom/config/redis.conf share/newsroom/config/users.acl \
  share/newsroom/config/docker-compose.yml share/man/man1/newsroom.1 \
  lib/systemd/system/newsroom-swarm.service lib/systemd/system/newsroom-swarm@.service \
  etc/logrotate.d/newsroom etc/newsroom/newsroom.conf etc/newsroom/swarm.env; do
  if [ -e "$P/$f" ]; then ok; else bad "cmake --install did not install $f"; fi
done
if [ -x "$P/bin/newsroom" ]; then ok; else bad "the installed binary is not executable"; fi
# The observability files beside the compose file, and every file the compose file mounts.
for f in share/newsroom/config/prometheus.yml share/newsroom/config/grafana/provisioning/datasources/newsroom.yml \
  share/newsroom/config/grafana/dashboards/newsroom.json; do
  if [ -e "$P/$f" ]; then ok; else bad "cmake --install did not install $f"; fi
done
for m in $(sed -n 's/^ *- \(\.\/[^:]*\):.*/\1/p' "$SRC/config/docker-compose.yml"); do
  if [ -e "$SRC/config/$m" ] && [ -e "$P/share/newsroom/config/$m" ]; then ok; else bad "docker-compose.yml mounts $m, which config/ (or the install) lacks"; fi
done
# The environment file will hold keys: root's only. The configuration holds none: readable.
if [ "$(stat -c %a "$P/etc/newsroom/swarm.env")" = 600 ]; then ok; else bad "swarm.env is not 600"; fi
if [ "$(stat -c %a "$P/etc/newsroom/newsroom.conf")" = 644 ]; then ok; else bad "newsroom.conf is not 644"; fi
# The units start the installed binary with the installed configuration.
for u in newsroom-swarm.service newsroom-swarm@.service; do
  has "$P/lib/systemd/system/$u" "ExecStart=$PREFIX/bin/newsroom --config $PREFIX/etc/newsroom/newsroom.conf swarm --roles \${NEWSROOM_ROLES}"
  has "$P/lib/systemd/system/$u" "Restart=on-failure"
  has "$P/lib/systemd/system/$u" "LimitCORE=0"
  hasnt "$P/lib/systemd/system/$u" "@NEWSROOM_"
done
has "$P/lib/systemd/system/newsroom-swarm.service" "EnvironmentFile=$PREFIX/etc/newsroom/swarm.env"
has "$P/lib/systemd/system/newsroom-swarm@.service" "EnvironmentFile=$PREFIX/etc/newsroom/swarm-%i.env"
has "$P/etc/newsroom/swarm.env" "NEWSROOM_ROLES="

# The installed binary, from a folder with no themes or config in it, with a bare environment:
# its default configuration and share directory are the installed ones.
mkdir -p "$T/elsewhere"
installed() { (cd "$T/elsewhere" && env -i HOME="$T" PATH=/usr/bin:/bin NEWSROOM_FFMPEG=none "$@"); }
run 0 installed "$P/bin/newsroom" --version
has "$OUT" "newsroom 0."
run 0 installed "$P/bin/newsroom" config --json
if [ "$(jq -r .file "$OUT")" = "$P/etc/newsroom/newsroom.conf" ]; then ok; else bad "installed binary read $(jq -r .file "$OUT"), not its default configuration"; fi
if [ "$(jq -r .share_dir "$OUT")" = "$P/share/newsroom" ]; then ok; else bad "installed binary's share directory is $(jq -r .share_dir "$OUT")"; fi
# The default configuration is read: a key changed in it shows with its file and line.
sed -i 's/^swarm_name = newsroom$/swarm_name = installed-swarm/' "$P/etc/newsroom/newsroom.conf"
run 0 installed "$P/bin/newsroom" config --json
if jq -e '.keys[] | select(.key == "swarm_name") | .value == "installed-swarm" and (.source | test("newsroom.conf:[0-9]+$"))' "$OUT" >/dev/null; then ok; else bad "the installed configuration's swarm_name was not read"; fi
# A command on the embedded Redis, from the installed binary.
run 0 installed env NEWSROOM_DATA_DIR="$T/data" "$P/bin/newsroom" ctl status --json
if jq -e '.embedded == true' "$OUT" >/dev/null; then ok; else bad "installed ctl status did not run on the embedded Redis"; fi

# A reinstall keeps the edited configuration.
run 0 env DESTDIR="$ROOT" cmake --install "$BUILD" --prefix "$PREFIX"
has "$OUT" "Kept: $P/etc/newsroom/newsroom.conf"
has "$P/etc/newsroom/newsroom.conf" "swarm_name = installed-swarm"

# The whole tree moved elsewhere still finds its files (every path is relative to the binary).
mv "$ROOT" "$T/moved"
M=$T/moved$PREFIX
run 0 installed "$M/bin/newsroom" config --json
if [ "$(jq -r .share_dir "$OUT")" = "$M/share/newsroom" ]; then ok; else bad "moved tree: share directory $(jq -r .share_dir "$OUT")"; fi
if [ "$(jq -r .file "$OUT")" = "$M/etc/newsroom/newsroom.conf" ]; then ok; else bad "moved tree: configuration $(jq -r .file "$OUT")"; fi

# The man page renders.
run 0 env MANWIDTH=80 man -l "$M/share/man/man1/newsroom.1"
has "$OUT" "NEWSROOM"

# The build-tree binary finds the source tree's themes and template from anywhere.
run 0 installed "$(realpath "$NR_BIN")" config --json
if [ "$(jq -r .share_dir "$OUT")" = "$SRC" ]; then ok; else bad "build-tree binary: share directory $(jq -r .share_dir "$OUT"), not $SRC"; fi
if [ "$(jq -r .file "$OUT")" = null ]; then ok; else bad "build-tree binary read $(jq -r .file "$OUT")"; fi
finish
