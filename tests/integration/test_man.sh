#!/usr/bin/env bash
# newsroom(1): docs/newsroom.1 is what tools/gen_man.sh makes from docs/newsroom.1.in,
# config/newsroom.conf and the binary; it renders with man -l and groff without a warning; and
# everything the binary offers is in it: every command, every flag of every help (newsroom,
# ctl and each verb's, swarm, wire, config, doctor, bench and each benchmark's), every ctl
# verb, every configuration key and environment variable, every key binding of the control
# room (ui/keys.c).
. "$(dirname "$0")/lib.sh" "$1"
SRC=$(cd "${NEWSROOM_SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
MAN=$SRC/docs/newsroom.1

# Up to date.
"$SRC/tools/gen_man.sh" "$NR_BIN" >"$T/made.1" 2>"$T/gen.err"
if diff -u "$MAN" "$T/made.1" >"$T/diff"; then ok; else bad "docs/newsroom.1 is not what tools/gen_man.sh makes (run it): $(head -c 1500 "$T/diff")"; fi

# It renders, without a warning.
run 0 env MANWIDTH=80 man --warnings -l "$MAN"
has "$OUT" "NEWSROOM(1)"
has "$OUT" "EXIT STATUS"
if [ -s "$ERR" ]; then bad "man -l warns: $(head -c 600 "$ERR")"; else ok; fi
groff -man -Tascii -rHY=0 -ww -z "$MAN" 2>"$T/groff.err"
if [ -s "$T/groff.err" ]; then bad "groff warns: $(head -c 600 "$T/groff.err")"; else ok; fi
# The text to look in: unhyphenated, on long lines, without formatting.
groff -man -Tascii -rHY=0 -rLL=300n "$MAN" 2>/dev/null | col -b >"$T/man.txt"
in_man() { grep -qF -- "$1" "$T/man.txt"; }

# Every flag of every help.
helps() {
  "$NR_BIN" --help
  "$NR_BIN" ctl --help
  "$NR_BIN" swarm --help
  "$NR_BIN" wire --help
  "$NR_BIN" config --help
  "$NR_BIN" doctor --help
  "$NR_BIN" bench --help
  "$NR_BIN" bench all --help
  for v in $verbs; do "$NR_BIN" ctl "$v" --help; done
  for b in $benches; do "$NR_BIN" bench "$b" --help; done
}
verbs=$("$NR_BIN" ctl --help | awk '/^Verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
benches=$("$NR_BIN" bench --help | awk '/^Benchmarks:/ { on = 1; next } on && /^  [a-z]/ && $1 != "all" { print $1 }')
commands=$("$NR_BIN" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { on = 0 }')
[ "$(echo "$verbs" | wc -w)" -ge 15 ] && ok || bad "too few verbs read from ctl --help: $verbs"
[ "$(echo "$benches" | wc -w)" -ge 8 ] && ok || bad "too few benchmarks read: $benches"
[ "$(echo "$commands" | wc -w)" -ge 6 ] && ok || bad "too few commands read: $commands"
helps >"$T/helps.txt" 2>&1
flags=$(grep -oE -- '--[a-z][a-z-]*' "$T/helps.txt" | sort -u)
[ "$(echo "$flags" | wc -w)" -ge 30 ] && ok || bad "too few flags read from the helps: $flags"
missing=
for f in $flags; do in_man "$f" || missing="$missing $f"; done
[ -z "$missing" ] && ok || bad "flags in the helps but not in the man page:$missing"
missing=
for v in $verbs $commands $benches; do grep -qE "^ +$v( |$)|^ +newsroom( bench)? $v|^ +$v " "$T/man.txt" || missing="$missing $v"; done
[ -z "$missing" ] && ok || bad "commands, verbs or benchmarks not in the man page:$missing"

# Every configuration key, with its section, and every environment variable.
"$NR_BIN" config --json >"$T/config.json"
missing=
while read -r section key; do
  awk -v s="[$section]" -v k="$key" '$0 ~ /^   \[/ { cur = $1 } cur == s && $1 == k && $2 == "=" { found = 1 } END { exit !found }' "$T/man.txt" ||
    missing="$missing [$section]$key"
done < <(jq -r '.keys[] | "\(.section) \(.key)"' "$T/config.json")
[ -z "$missing" ] && ok || bad "configuration keys not in the man page:$missing"
missing=
for e in $(jq -r '.keys[] | select(.env != null) | .env' "$T/config.json" | sort -u); do
  in_man "$e" || missing="$missing $e"
done
[ -z "$missing" ] && ok || bad "environment variables not in the man page:$missing"

# Every key binding of the control room, by the name its help shows.
names=$(sed -n 's/^ *{[^"]*, ACT_[A-Z0-9_]*, "\([^"]*\)"},$/\1/p' "$SRC/ui/keys.c" | sort -u)
[ "$(echo "$names" | wc -l)" -ge 30 ] && ok || bad "too few key bindings read from ui/keys.c"
section=$(sed -n '/^CONTROL ROOM KEYS/,/^CONFIGURATION/p' "$T/man.txt")
missing=
while read -r k; do
  printf '%s\n' "$section" | grep -qF -- "$k" || missing="$missing '$k'"
done <<<"$names"
[ -z "$missing" ] && ok || bad "key bindings not in the man page:$missing"

# The exit codes.
for code in 0 1 2 3; do
  sed -n '/^EXIT STATUS/,/^EXAMPLES/p' "$T/man.txt" | grep -qE "^ +$code\b" && ok || bad "exit status $code not described"
done
finish
