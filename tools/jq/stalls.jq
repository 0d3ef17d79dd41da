# Connections held up by a receiver that stopped reading, on either side
# (verdicts zero_window and receiver_stall), with how long the windows were zero.
# Usage: tcpvitals --json | jq -c -f tools/jq/stalls.jq
select(.type == "close" and (.verdict | (index("zero_window") or index("receiver_stall"))))
| {conn, comm, laddr, lport, raddr, rport, dir, still_open, verdict,
   peer_zero_ms: .zero_windows.peer_ms, probes: .zero_windows.probes, local_zero_ms: .zero_windows.local_ms}
