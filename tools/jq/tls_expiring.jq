# Certificates that expire within $days days (default 30), from every check.
#   tcpvitals --json | jq -c --argjson days 30 -f tools/jq/tls_expiring.jq
select(.type == "tls")
| . as $t
| (.verified_chain // .chain)[]
| select(.days_left < ($ARGS.named.days // 30))
| {server_name: $t.server_name, raddr: $t.raddr, rport: $t.rport, subject, not_after, days_left}
