#!/usr/bin/env bash
# tools/acl_commands.sh - the Redis commands Newsroom's engine sends, derived from the code, one
# a line in ACL form (lower case, container commands as CMD|SUB): every command word at the
# start of a string literal of src/ (rlink_command formats, argv arrays; embedded.c, which
# talks to a private server of its own, left out) and every redis.call / redis.pcall of the Lua
# scripts, kept when the Redis server at hand knows it as a command (COMMAND LIST), plus what
# a link itself sends (AUTH needs no permission; EVALSHA and SCRIPT LOAD run the scripts,
# WAIT and ROLE serve [redis] wait_replicas and Sentinel, MULTI and EXEC frame
# rlink_transaction()). config/users.acl's agent user must grant exactly these;
# tests/integration/test_acl.sh holds the two together.
# With --read-only: those of them a read-only control room may have, the ones Redis does not
# flag "write" (COMMAND INFO), PUBLISH left out; config/users.acl's room user grants those.
# With --users-acl: the whole of config/users.acl, made from both lists (after a change to the
# commands the code sends: tools/acl_commands.sh --users-acl > config/users.acl).
# usage: tools/acl_commands.sh [--read-only|--users-acl] [redis-cli arguments to reach a server]
# (default: none, a private server is started in a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
read_only=
if [ "${1:-}" = --read-only ]; then
  read_only=1
  shift
elif [ "${1:-}" = --users-acl ]; then
  shift
  self=$(realpath "$0")
  agents=$("$self" "$@" | sed 's/^/+/' | tr '\n' ' ')
  room=$("$self" --read-only "$@" | sed 's/^/+/' | tr '\n' ' ')
  cat <<ACL
user default off resetpass nocommands resetkeys resetchannels
user newsroom on resetkeys ~nr:* resetchannels &nr:* nocommands ${agents% }
user newsroom-room on resetkeys %R~nr:* resetchannels &nr:* nocommands ${room% }
user newsroom-replica on resetkeys resetchannels nocommands +psync +replconf +ping
user newsroom-sentinel on resetkeys allchannels nocommands +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill
user newsroom-admin on ~* &* +@all
ACL
  exit 0
fi
tmp=$(mktemp -d /tmp/nr-acl-XXXXXX)
pid=
finish() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap finish EXIT
if [ $# -eq 0 ]; then
  redis-server --port 0 --unixsocket "$tmp/s" --save '' --appendonly no --dir "$tmp" \
    --logfile "$tmp/log" &
  pid=$!
  for _ in $(seq 1 200); do redis-cli -s "$tmp/s" ping >/dev/null 2>&1 && break; sleep 0.05; done
  set -- -s "$tmp/s"
fi
# Every command Redis knows (lower case).
redis-cli "$@" command list | tr 'A-Z' 'a-z' | sort -u >"$tmp/commands"
{
  # C: the first word (and the next, for container commands) of the literal that starts a
  # command: an rlink_command() / redisCommand() format, or the first element of an argv array.
  grep -rhE 'rlink_command\(|redisCommand\(' src --include='*.c' --exclude=embedded.c |
    grep -oE '"[A-Z][A-Z]+( [A-Z][A-Z]+)?' | tr -d '"'
  grep -rhoE '(\{|\[[0-9a-z+]*\] = )"[A-Z][A-Z]+"(, "[A-Z][A-Z]+")?' src --include='*.c' \
    --exclude=embedded.c | sed -E 's/^(\{|\[[0-9a-z+]*\] = )//' | tr -d '",'
  # Lua: redis.call('CMD'[, 'SUB'] / redis.pcall(...
  grep -rhoE "redis\.p?call\(\s*['\"][A-Za-z]+['\"](\s*,\s*['\"][A-Za-z]+['\"])?" src/store/scripts |
    sed -E "s/redis\.p?call\(\s*//; s/['\",]/ /g"
  # What a link sends itself (rlink.c, bus.c): scripts, login, Sentinel, WAIT, subscriptions,
  # the frame of a transaction.
  printf '%s\n' EVALSHA "SCRIPT LOAD" "CLIENT SETNAME" SELECT PING INFO ROLE WAIT SUBSCRIBE \
    UNSUBSCRIBE MULTI EXEC
} | tr 'A-Z' 'a-z' | awk '{ print $1, $2 }' | sort -u >"$tmp/words"
# A container command (one with subcommands) as cmd|sub, a plain one as itself; AUTH needs no
# permission and words that are not commands are dropped.
while read -r cmd sub; do
  [ "$cmd" = auth ] && continue
  if [ -n "$sub" ] && grep -qx "$cmd|$sub" <(redis-cli "$@" command info "$cmd|$sub" 2>/dev/null); then
    echo "$cmd|$sub"
  elif grep -qx "$cmd" "$tmp/commands" &&
    [ -z "$(redis-cli "$@" command docs "$cmd" 2>/dev/null | grep -x subcommands)" ]; then
    echo "$cmd"
  fi
done <"$tmp/words" | sort -u >"$tmp/derived"
if [ -z "$read_only" ]; then
  cat "$tmp/derived"
  exit 0
fi
while read -r c; do
  [ "$c" = publish ] && continue
  # The flags are the third element of COMMAND INFO's answer, one per line after the arity.
  redis-cli "$@" command info "$c" | sed -n '3,/^[0-9-]*$/p' | grep -qx write || echo "$c"
done <"$tmp/derived"
