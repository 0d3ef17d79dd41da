# Remote endpoints ranked by retransmitted segments (reads the whole stream).
#   tcpvitals --json -d 60 | jq -s -f tools/jq/worst_endpoints.jq
map(select(.type == "close"))
| group_by("\(.raddr):\(.rport)")
| map({endpoint: "\(.[0].raddr):\(.[0].rport)", connections: length,
       retrans_segs: (map(.retrans_segs) | add), rto: (map(.rto) | add),
       ofo_segs: (map(.ofo_segs) | add), resets: (map(.resets_received + .resets_sent) | add)})
| sort_by(-.retrans_segs)
