# port_candidate [N]: a random loopback port, and the N-1 after it (N=1 by default), below the
# kernel's ephemeral range (net.ipv4.ip_local_port_range). A port in that range may be held by
# an outgoing connection, or its TIME_WAIT, between the check that nothing listens there and
# the bind (seen: a sentinel that could not listen, every few runs). Sourced by the services
# (services.sh) and the shell tests (tests/integration/lib.sh).
port_candidate() {
  local lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 21000 ] 2>/dev/null || lo=61000
  echo $((20000 + RANDOM % (lo - 20000 - ${1:-1})))
}
