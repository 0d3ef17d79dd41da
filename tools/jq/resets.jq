# Every reset, with the kernel's reason where it gives one.
#   tcpvitals --json | jq -c -f tools/jq/resets.jq
select(.type == "reset") | {ts, comm, pid, side, reason, state, laddr, lport, raddr, rport}
