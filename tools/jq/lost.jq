# Did tcpvitals keep up? Lost records as they happen, and the totals at the end.
#   tcpvitals --json | jq -c -f tools/jq/lost.jq
select(.type == "lost" or .type == "stop")
