#!/usr/bin/env bash
# tools/gen_man.sh BINARY - writes docs/newsroom.1 on stdout: docs/newsroom.1.in with its
# CONFIGURATION section made from config/newsroom.conf (every key with its default and the
# comments that explain it) and its ENVIRONMENT section from the binary's key table
# (`newsroom config --json`: every variable and the key it overrides), and the version.
#   tools/gen_man.sh build/release/newsroom > docs/newsroom.1
set -euo pipefail
bin=$1
cd "$(dirname "$0")/.."
version=$("$bin" --version | awk '{ print $2 }')

# roff-safe text: backslashes, and a line that would start with a control character.
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

configuration() {
  awk '
    function flush() {
      if (ntext > 0) { print ".PP"; for (i = 1; i <= ntext; i++) print text[i]; ntext = 0 }
    }
    function keys_end() { if (inkeys) { print ".fi"; print ".RE"; inkeys = 0 } }
    /^\[.*\]$/ { keys_end(); ntext = 0; insection = 1; print ".SS " $0; next }
    !insection { next }
    /^[;#]/ {
      keys_end(); sub(/^[;#] ?/, "")
      # An indented comment line is an example: kept as it is, on a line of its own.
      if ($0 ~ /^ /) { text[++ntext] = ".nf"; text[++ntext] = $0; text[++ntext] = ".fi" }
      else text[++ntext] = $0
      next
    }
    /^[ \t]*$/ { keys_end(); flush(); next }
    /=/ {
      if (!inkeys) { flush(); print ".RS"; print ".nf"; inkeys = 1 }
      k = $0; sub(/[ \t]*=.*/, "", k); v = $0; sub(/^[^=]*=[ \t]*/, "", v)
      print "\\fB" k "\\fR = " v
      next
    }
    END { keys_end(); flush() }
  ' config/newsroom.conf | esc_keep
}
# Like esc, but the lines this script wrote itself (requests, font escapes) stay as they are.
esc_keep() {
  while IFS= read -r line; do
    case $line in
      .SS* | .PP | .RS | .RE | .nf | .fi) printf '%s\n' "$line" ;;
      ' '*) printf '\\&%s\n' "$line" | sed -e 's/\\\([^&]\)/\\e\1/g' ;;
      '\fB'*) printf '%s\n' "$line" | sed -e 's/\\\([^f]\)/\\e\1/g' ;;
      *) printf '%s\n' "$line" | esc ;;
    esac
  done
}

environment() {
  "$bin" config --json | jq -r '
    [.keys[] | select(.env != null) | {env, key: "[\(.section)] \(.key)"}]
    | group_by(.env)[]
    | ".TP\n.B \(.[0].env)\n\([.[].key] | join(", "))"'
}

# Through the environment, not awk -v, which would take the backslashes as escapes.
MAN_CONF=$(configuration) MAN_ENV=$(environment) MAN_VERSION=$version awk '
  { gsub(/@VERSION@/, ENVIRON["MAN_VERSION"]) }
  /^@CONFIGURATION@$/ { print ENVIRON["MAN_CONF"]; next }
  /^@ENVIRONMENT@$/ { print ENVIRON["MAN_ENV"]; next }
  { print }
' docs/newsroom.1.in | sed '/^\.\\" newsroom(1): written by hand here/,/^\.\\" environment variable of the binary appears in it\.$/c\
.\\" Made by tools/gen_man.sh from docs/newsroom.1.in, config/newsroom.conf and the binary'"'"'s\
.\\" key table; edit those, not this file.'
