# Connections that had to retransmit, one line each, as they close.
#   tcpvitals --json | jq -c -f tools/jq/retransmits.jq
select(.type == "close" and .retrans_segs > 0)
| {ts, comm, pid, raddr, rport, retrans_segs, rto, bytes_retrans, closed_by}
