# TLS checks that did not verify, with every error and its depth.
#   tcpvitals --json | jq -c -f tools/jq/tls_failures.jq
select(.type == "tls" and .result != "ok")
| {server_name, raddr, rport, result, errors: [.verify_errors[] | "\(.text) (depth \(.depth))"], error}
