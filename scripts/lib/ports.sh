# port_candidate [N]: a random loopback port, and the N-1 after it (N=1 by default), below the
# kernel's ephemeral range (net.ipv4.ip_local_port_range). A port in that range may be held by
# an outgoing connection, or its TIME_WAIT, between the check that nothing listens there and
# the bind (seen: a sentinel that could not listen, every few runs). Sourced by the services
# (services.sh) and the shell tests (tests/integration/lib.sh).
port_candidate() {
  local lo hi n=${1:-1}
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { lo=32768 hi=60999; }
  if [ "$lo" -gt $((21000 + n)) ]; then
    echo $((20000 + RANDOM % (lo - 20000 - n)))
  elif [ "$hi" -lt $((64000 - n)) ]; then
    # A range that starts low: above it instead.
    echo $((hi + 1 + RANDOM % (65535 - hi - n)))
  else
    echo $((20000 + RANDOM % 10000)) # no room outside it: the old way
  fi
}
