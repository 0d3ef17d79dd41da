#!/usr/bin/env python3
"""Turns build/bench/results.json (tools/bench.py) into the README's performance
tables: prints Markdown, or with --readme FILE rewrites the block between
<!-- bench:begin --> and <!-- bench:end --> in FILE."""
import json
import os
import re
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))


def num(v, f="%.1f"):
    return "-" if v is None else f % v


def spread(r, f="%.3f"):
    return "**%s** (%s to %s)" % (f % r["median"], f % r["min"], f % r["max"])


def hooks_table(rows):
    loads = ["bulk", "small", "churn"]
    progs = []
    for r in rows:
        if r["program"] not in progs:
            progs.append(r["program"])
    by = {(r["program"], r["load"]): r for r in rows}
    out = ["| program (tracepoint) | " + " | ".join("%s: runs/s, ns over empty" % l for l in loads) + " |",
           "|---|" + "---|" * len(loads)]
    for p in progs:
        tp = next(r["hook"] for r in rows if r["program"] == p)
        cells = []
        for l in loads:
            r = by.get((p, l))
            if not r or not r["runs"]:
                cells.append("0")
            else:
                cells.append("%s, %s" % (num(r["runs_per_s"], "%.0f"), num(r["added_ns"], "%+.0f")))
        out.append("| `%s` (`%s`) | %s |" % (p, tp, " | ".join(cells)))
    return out


def render(res):
    out = ["Measured by `tools/bench.py` (`sudo make bench` runs every section; `BENCH_ONLY` runs some, "
           "keeping the others' last figures) on %s, kernel %s, %d CPUs, %s; "
           "%d rounds of %.0f s. The figures below come from `build/bench/results.json` through "
           "`tools/bench_table.py`." % (res["date"], res["kernel"], res["cpus"],
                                         "the development VM", res["rounds"], res["seconds"]), ""]
    if "hooks" in res:
        out += ["**Every hook**, BPF statistics on, tcpvitals `--json` and an empty program on each of its "
                "tracepoints attached together; loads: bulk `iperf3`, small messages (64 B request and "
                "response), and the churn client. ns over empty is the program's run time per run minus "
                "the empty program's.", ""]
        out += hooks_table(res["hooks"]) + [""]
    if "rcvpath" in res:
        r = res["rcvpath"]
        out += ["**The receive path, part by part** (medians of %d interleaved rounds; ns per segment over an "
                "empty program on `tcp_probe`). The `touch` programs (`tools/bench/touch.bpf.c`) make only "
                "tcpvitals' reads, one part more each:" % len(r["bulk"]["rounds"]["tcpvitals"]), "",
                "| program | bulk | small messages |", "|---|---|---|"]
        for key, label in (("touch1", "the segment's sequence numbers and flags"),
                           ("touch2", "and `bpf_skc_to_tcp_sock`"),
                           ("touch", "and `rcv_nxt`, `pred_flags` (the tcp_sock's lines TCP reads next)"),
                           ("tcpvitals", "**tcpvitals**")):
            out.append("| %s | %+.1f | %+.1f |" % (label, r["bulk"][key], r["small"][key]))
        out += ["", "What tcpvitals' own logic adds over the reads: bulk **%+.1f ns**, small messages **%+.1f ns**."
                % (r["bulk"]["logic"], r["small"]["logic"]), ""]
    if "rcvtls" in res:
        r = res["rcvtls"]
        out += ["**The receive path with TLS connections present** (small messages, medians of %d "
                "interleaved rounds): over an empty program, **%+.1f ns** per segment when the connection "
                "is not on a TLS port, **%+.1f ns** when it is (`--tls-port`: every small in-order segment "
                "is then looked at as a possible TLS alert)." % (len(r["rounds_plain"]), r["plain"], r["tls"]), ""]
    if "rcvdelta" in res:
        r = res["rcvdelta"]
        out += ["**What the last change added to the receive path** (the build before it, %s, run against "
                "this one back to back, %d pairs; medians of the pairs' differences, the VM flipping between "
                "regimes tens of ns apart): bulk **%+.1f ns** a segment (before %+.1f, after %+.1f over "
                "empty), small messages **%+.1f ns** (before %+.1f, after %+.1f)." % (
                    r["before"], len(r["bulk"]["rounds_before"]), r["bulk"]["added"], r["bulk"]["before"],
                    r["bulk"]["after"], r["small"]["added"], r["small"]["before"], r["small"]["after"]), ""]
    if "throughput" in res:
        t = res["throughput"]
        tools = list(t["small"].keys())
        out += ["**Loopback throughput**, traced / untraced, median of interleaved rounds (range), "
                "BPF statistics off; untraced: small messages (64 B request, 64 B response) %.0f "
                "transactions/s, bulk %.1f Gbit/s.%s" % (
                    t["small"][tools[0]]["untraced_median"], t["bulk"][tools[0]]["untraced_median"] / 1e9,
                    " *empty programs* is the floor: an empty program for each of tcpvitals' programs, on "
                    "the same tracepoints (`tools/bench/floor.bpf.c`); what it loses is the kernel's "
                    "dispatch of the programs, which no tracer on those tracepoints avoids."
                    if "empty programs" in tools else ""),
                "", "| tool | small messages | bulk |", "|---|---|---|"]
        for tool in tools:
            out.append("| %s | %s | %s |" % (tool, spread(t["small"][tool]), spread(t["bulk"][tool])))
        out.append("")
    if "churn" in res:
        c = res["churn"]["tools"]
        first = next(iter(c.values()))
        out += ["**Connection churn** (one C client, `tools/bench/churn.c`; untraced %.0f connections/s): the "
                "rate traced / untraced (statistics off), and CPU per connection: the tool's user+system "
                "time plus its BPF programs' run time (statistics on)." % first["rate"]["untraced_median"],
                "", "| tool | rate, traced / untraced | CPU per connection | |", "|---|---|---|---|"]
        for tool, e in c.items():
            extra = ""
            if "closes" in e:
                extra = "%d close records for %d sockets, %d lost" % (e["closes"], e["sockets"], e["lost"])
                if "missed" in e:
                    extra += ", %d missed; %d connections the server never accepted (`TcpExtListenOverflows`)" % (
                        e["missed"], e["listen_overflows"])
                if "destroys_hidden" in e:
                    extra += "; %d destroys ran where the kernel runs no BPF program (ftrace; `tools/blindspot.sh`)" % (
                        e["destroys_hidden"])
            out.append("| %s | %s | %s us (process %.0f ms + BPF %.0f ms, %d connections) | %s |" % (
                tool, spread(e["rate"]), num(e.get("cpu_us_per_conn")), e.get("process_ms", 0),
                e.get("bpf_ms", 0), e.get("connections", 0), extra))
        out.append("")
    if "collector" in res:
        c = res["collector"]
        out += ["**The collector alone** (decode, table, verdicts, format; TLS checks off; output to "
                "/dev/null; one core), fed %d recorded churn records (`tcpvitals --record`, replayed by "
                "`build/bench/replay`, best of 5 passes): JSON **%.0f** records/s, text (`--all`) **%.0f** "
                "records/s%s." % (
                    c["json"]["records"], c["json"]["records_per_s"], c["text"]["records_per_s"],
                    "; the first pass, which also pays the page faults of the connection table's memory: "
                    "JSON %.0f, text %.0f" % (c["json"]["first_records_per_s"], c["text"]["first_records_per_s"])
                    if "first_records_per_s" in c["json"] else ""), ""]
    if "memory" in res:
        out += ["**Collector memory**: VmHWM " + ", ".join(
            "%d kB after %s connections" % (kb, n) for n, kb in res["memory"].items()) + ".", ""]
    if "agent" in res:
        a = res["agent"]
        r = a["rss"]
        out += ["**The agent** (`--agent --tls-check off`, healthy connections write nothing): the churn "
                "rate traced / untraced %s (untraced %.0f connections/s). One agent run while %d "
                "connections churned through it in %.0f s: RSS %d kB after the first %d (warm-up), %d kB "
                "at the end, between %d and %d kB in between: at most **%+.1f%%** over the warm-up value "
                "(VmHWM %d kB). RSS follows the connections in flight (each waits 200 ms after its close "
                "for late records), so it falls when the rate does; it does not grow with the count." % (
                    spread(a["churn"]), a["churn"]["untraced_median"], r["connections"], r["seconds"],
                    r["warm_kb"], r["warm_connections"], r["last_kb"], r["min_after_warm_kb"],
                    r["max_after_warm_kb"], r["max_growth_pct"], r["vm_hwm_kb"]), ""]
    return "\n".join(out).rstrip() + "\n"


def main():
    with open(os.path.join(ROOT, "build/bench/results.json")) as f:
        text = render(json.load(f))
    if len(sys.argv) == 3 and sys.argv[1] == "--readme":
        with open(sys.argv[2]) as f:
            readme = f.read()
        new, n = re.subn(r"(<!-- bench:begin -->\n).*?(<!-- bench:end -->)",
                         lambda m: m.group(1) + text + m.group(2), readme, flags=re.S)
        if n != 1:
            sys.exit("bench_table: no <!-- bench:begin --> ... <!-- bench:end --> block in " + sys.argv[2])
        with open(sys.argv[2], "w") as f:
            f.write(new)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
