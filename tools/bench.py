#!/usr/bin/env python3
"""tcpvitals benchmarks (root; loopback in a namespace of their own only).

Writes build/bench/results.json; tools/bench_table.py turns it into the README's
table. Sections (BENCH_ONLY=name,name to run some):

  hooks       every hook's run time per event over an empty program on the same
              tracepoint, and how often it fires, under each load (BPF statistics on)
  rcvtls      the receive path under small messages, with and without the connection on a
              TLS port
  rcvdelta    only with BENCH_BEFORE=another/build/tcpvitals (BENCH_BEFORE_LABEL names it
              in the table): the receive path of that build against this one, in pairs
              back to back, bulk and small messages
  rcvpath     the receive path: tcpvitals' program against one that only makes the same
              reads of the socket and segment (tools/bench/touch.bpf.c), under bulk
  throughput  loopback: iperf3 bulk, and small messages (64 bytes each way, request and
              response on one connection, Nagle off: tools/bench/churn.c rr): traced /
              untraced for tcpvitals, tcplife, tcpstates and dumpcap (snaplen 128), the
              median of interleaved rounds with the spread (BPF statistics off)
  churn       a C client opening and closing connections as fast as it can: the rate
              traced / untraced (statistics off), every close delivered and nothing
              lost, CPU per connection = the tool's user+system time plus its programs'
              run time (statistics on)
  collector   the collector alone: a churn recorded with --record, replayed through
              decode, table, verdicts and each format on one core (best of 5 passes)
  memory      the collector's peak RSS after churns of two sizes
  agent       --agent: the churn rate traced / untraced (interleaved rounds), then one
              agent run while BENCH_AGENT_CONNS connections (default 5 million) churn
              through it, its RSS sampled as they pass (flat after warm-up?)

Knobs: BENCH_SECONDS (one run, default 3), BENCH_ROUNDS (default 7).
"""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
TV = os.path.join(ROOT, "build/tcpvitals")
BENCH = os.path.join(ROOT, "build/bench")
SECS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
NS = "tvbench%d" % os.getpid()
SHM = tempfile.mkdtemp(prefix="tvbench.", dir="/dev/shm")
IPERF_PORT, CHURN_PORT = 5201, 9500


def log(*a):
    print(*a, flush=True)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def wait_for(cond, what, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def listening(port):
    out = subprocess.run(ns("ss", "-Htln", "sport = :%d" % port), capture_output=True, text=True).stdout
    return bool(out.strip())


def cpu_s(pid):
    """user+system seconds of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))


def bpf_stats(enabled):
    run("sysctl", "-qw", "kernel.bpf_stats_enabled=%d" % int(enabled))


def progs():
    """{id: (name, run_time_ns, run_cnt)} of every loaded BPF program."""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True, check=True).stdout
    return {p["id"]: (p.get("name", ""), p.get("run_time_ns", 0), p.get("run_cnt", 0)) for p in json.loads(out)}


# ---- the tools compared ----

class Tool:
    """A tracer started for a run and stopped after it; its output lands in SHM."""

    def __init__(self, name):
        self.name, self.proc, self.out, self.prog_ids = name, None, None, set()

    def argv(self):
        raise NotImplementedError

    def ready(self):
        return True

    def start(self):
        before = set(progs())
        self.out = os.path.join(SHM, re.sub(r"[^A-Za-z0-9-]+", "_", self.name) + ".out")
        # stdin a pipe: attach_empty (Floor) runs until its stdin closes
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=open(self.out, "w"),
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: self.proc.poll() is not None or self.ready(), self.name + " to start", 20)
        if self.proc.poll() is not None:
            raise RuntimeError(self.name + " exited at start")
        time.sleep(0.3)
        self.prog_ids = set(progs()) - before

    def stop(self):
        self.proc.send_signal(2)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def text(self):
        with open(self.out, errors="replace") as f:
            return f.read()


class Tcpvitals(Tool):
    def __init__(self, *args, binary=None):
        super().__init__("tcpvitals " + " ".join(args))
        self.args = list(args)
        self.binary = binary or TV

    def argv(self):
        return [self.binary, *self.args]

    def ready(self):
        return os.path.getsize(self.out) > 0

    def closes_and_lost(self):
        closes = lost = missed = 0
        with open(self.out) as f:
            for line in f:
                if '"type":"close"' in line:
                    closes += 1
                elif '"type":"stop"' in line:
                    stop = json.loads(line)
                    lost, missed = stop["lost"], stop.get("missed", 0)
        return closes, lost, missed


class LibbpfTool(Tool):
    def argv(self):
        return ["stdbuf", "-oL", self.name]  # line-buffered, as on a terminal

    def ready(self):
        return os.path.getsize(self.out) > 0  # the header line


class Dumpcap(Tool):
    def __init__(self):
        super().__init__("dumpcap")

    def argv(self):
        return ns("dumpcap", "-q", "-i", "lo", "-s", "128", "-w", os.path.join(SHM, "cap.pcapng"))

    def ready(self):
        return os.path.exists(os.path.join(SHM, "cap.pcapng"))

    def stop(self):
        super().stop()
        try:
            os.unlink(os.path.join(SHM, "cap.pcapng"))
        except FileNotFoundError:
            pass


class Floor(Tool):
    """Empty programs on the tracepoints tcpvitals uses, as many as it attaches
    there (tools/bench/floor.bpf.c): the rate no tracer on them can beat."""

    def __init__(self):
        super().__init__("empty programs")

    def argv(self):
        return [os.path.join(BENCH, "attach_empty"), os.path.join(BENCH, "floor.bpf.o")]

    def ready(self):
        return os.path.getsize(self.out) > 0  # "ready"

    def stop(self):
        self.proc.terminate()  # it runs until stdin closes or a signal
        self.proc.wait()

    def tracepoints(self):
        """Its programs' tracepoints, each as often as it has programs there."""
        now = progs()
        return sorted(now[i][0].split("_", 1)[1] for i in self.prog_ids if i in now)


def tcpvitals_tracepoints(tool):
    """The tracepoints of a running tcpvitals' hook programs, each as often as it has programs there."""
    now = progs()
    tps = []
    for i in tool.prog_ids:
        name = now.get(i, ("",))[0]
        if name in HOOK_PROGS and name != "start_flusher":
            tps.append(HOOK_PROGS[name])
    return sorted(tps)


def check_floor():
    """The floor has the programs tcpvitals --json has, tracepoint for tracepoint."""
    tv, floor = Tcpvitals("--json"), Floor()
    tv.start()
    try:
        want = tcpvitals_tracepoints(tv)
    finally:
        tv.stop()
    floor.start()
    try:
        have = floor.tracepoints()
    finally:
        floor.stop()
    if want != have:
        raise RuntimeError("tools/bench/floor.bpf.c is out of step with tcpvitals: it attaches %s, "
                           "tcpvitals %s" % (have, want))


def compared_tools():
    return [Tcpvitals("--json"), Floor(), LibbpfTool("tcplife"), LibbpfTool("tcpstates"), Dumpcap()]


# ---- loads ----

def iperf(*opts):
    for _ in range(3):  # the server may still be finishing the previous test
        r = subprocess.run(ns("iperf3", "-c", "127.0.0.1", "-p", str(IPERF_PORT), "-t", str(SECS), "-J", *opts),
                           capture_output=True, text=True)
        try:
            return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
        except (ValueError, KeyError):
            time.sleep(0.5)
    raise RuntimeError("iperf3 failed")


def request_response():
    """Transactions per second: 64 bytes each way on one connection, Nagle off."""
    out = subprocess.run(ns(os.path.join(BENCH, "churn"), "rr", "127.0.0.1", str(CHURN_PORT), str(SECS)),
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / float(out[1])


def churn(seconds=None):
    out = subprocess.run(ns(os.path.join(BENCH, "churn"), "client", "127.0.0.1", str(CHURN_PORT),
                            str(seconds or SECS)), capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / float(out[1]), int(out[0])


# Small messages: request/response rather than iperf3 -l 64 -N, whose
# throughput on 2 vCPUs flips between two regimes (ratios near 0.6 and 1.8 for
# every tool, untraced pairs alike) whatever is traced.
LOADS = {
    "bulk": lambda: iperf(),
    "small": request_response,
    "churn": lambda: churn()[0],
}


def nstat_delta(counter):
    """The counter's change in the namespace since the last `nstat -n` there."""
    out = subprocess.run(ns("nstat", counter), capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == counter:
            return int(f[1])
    return 0


def settle():
    """Lets TIME_WAIT sockets from the last churn age past tcp_tw_reuse's second."""
    time.sleep(1.2)


# ---- sections ----

HOOK_PROGS = {  # tcpvitals' tp_btf program -> its tracepoint
    "btf_rcv_segment": "tcp_probe", "btf_retransmit_err": "tcp_retransmit_skb",
    "btf_retransmit": "tcp_retransmit_skb", "btf_retransmit_synack": "tcp_retransmit_synack",
    "btf_state": "inet_sock_set_state", "btf_state_again": "inet_sock_set_state",
    "start_flusher": "inet_sock_set_state",
    "btf_destroy": "tcp_destroy_sock", "btf_destroy_again": "tcp_destroy_sock",
    "btf_send_reset_reason": "tcp_send_reset",
    "btf_send_reset": "tcp_send_reset", "btf_receive_reset": "tcp_receive_reset",
    "btf_error": "inet_sk_error_report",
    "btf_drop_rxsk": "kfree_skb", "btf_drop_reason": "kfree_skb", "btf_drop": "kfree_skb",
    "accept4_exit": "sys_exit_accept4", "accept_exit": "sys_exit_accept",
    "btf_sendmsg": "tcp_sendmsg_locked",
}


def attach_empty(obj="empty.bpf.o"):
    """Empty programs on every tracepoint (or obj's); returns (process, their program ids)."""
    before = set(progs())
    p = subprocess.Popen([os.path.join(BENCH, "attach_empty"), os.path.join(BENCH, obj)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("attach_empty failed")
    return p, set(progs()) - before


def section_hooks():
    """Per hook and load: runs per second, ns per run, ns per run over an empty program.

    The first program attached to a tracepoint pays a fixed cost the others do
    not (two identical empty programs measured 46-67 and 25-27 ns a run), so an
    empty program goes first, tcpvitals second, and the baseline is a second
    empty program attached after tcpvitals."""
    bpf_stats(True)
    first, _ = attach_empty()
    tv = Tcpvitals("--json")
    tv.start()
    after, after_ids = attach_empty()
    results = []
    try:
        for load, fn in LOADS.items():
            settle()
            before = progs()
            t0 = time.monotonic()
            fn()
            elapsed = time.monotonic() - t0
            now = progs()
            delta = {}
            for pid, (name, rt, rc) in now.items():
                if pid not in tv.prog_ids and pid not in after_ids:
                    continue
                b = before.get(pid, (name, 0, 0))
                delta[name] = (rt - b[1], rc - b[2])
            for prog, tp in HOOK_PROGS.items():
                if prog not in delta:
                    continue
                rt, rc = delta[prog]
                ert, erc = delta.get("empty_" + tp, (0, 0))
                ns_run = rt / rc if rc else None
                empty_ns = ert / erc if erc else None
                results.append({
                    "load": load, "hook": tp, "program": prog, "runs": rc, "runs_per_s": rc / elapsed,
                    "ns_per_run": ns_run, "empty_ns_per_run": empty_ns,
                    "added_ns": ns_run - empty_ns if ns_run is not None and empty_ns is not None else None,
                    "added_ms_per_s": (rt - ert * rc / erc if erc else rt) / elapsed / 1e6 if rc else 0.0,
                })
                log("hooks %-6s %-22s %10.0f runs/s %8s ns/run, empty %8s, added %8s" % (
                    load, prog, rc / elapsed, fmt(ns_run), fmt(empty_ns), fmt(results[-1]["added_ns"])))
    finally:
        for p in (after, first):
            p.stdin.close()
            p.wait()
        tv.stop()
        bpf_stats(False)
    return results


def rcv_cost(middle, load="bulk", args=("--json",), binary=None):
    """ns per run of the middle program on tcp_probe over an empty one after it, under load."""
    first, _ = attach_empty()
    if middle == "tcpvitals":
        tool = Tcpvitals(*args, binary=binary)
        tool.start()
        stop = tool.stop
        name = "btf_rcv_segment"
    else:  # touch, touch1, touch2: tools/bench/touch.bpf.c
        p, _ = attach_empty(middle + ".bpf.o")
        stop = lambda: (p.stdin.close(), p.wait())
        name = "touch_tcp_probe"
    after, after_ids = attach_empty()
    try:
        before = progs()
        LOADS[load]()
        now = progs()
        d = {}
        for pid, (n, rt, rc) in now.items():
            if n == name or pid in after_ids:
                b = before.get(pid, (n, 0, 0))
                d[n] = (rt - b[1], rc - b[2])
        mine, empty = d[name], d["empty_tcp_probe"]
        return mine[0] / mine[1] - empty[0] / empty[1]
    finally:
        after.stdin.close()
        after.wait()
        stop()
        first.stdin.close()
        first.wait()


def section_rcvpath():
    """tcpvitals' receive-path program against programs that only make its reads
    (tools/bench/touch.bpf.c at three levels: the segment; and the helper that
    makes the socket a tcp_sock; and the tcp_sock's lines), interleaved, under
    bulk and small messages."""
    bpf_stats(True)
    parts = ("tcpvitals", "touch1", "touch2", "touch")
    res = {}
    try:
        for load in ("bulk", "small"):
            rounds = {m: [] for m in parts}
            for _ in range(ROUNDS):
                for m in parts:
                    rounds[m].append(rcv_cost(m, load))
            med = {m: statistics.median(v) for m, v in rounds.items()}
            res[load] = {"rounds": rounds, **med,
                         "logic": statistics.median(a - b for a, b in zip(rounds["tcpvitals"], rounds["touch"]))}
            log("rcvpath %s: over empty, tcpvitals %+.1f ns; the reads alone: the segment %+.1f, and the helper "
                "%+.1f, and the tcp_sock's lines %+.1f; the logic %+.1f ns (medians of %d)" % (
                    load, med["tcpvitals"], med["touch1"], med["touch2"], med["touch"], res[load]["logic"], ROUNDS))
    finally:
        bpf_stats(False)
    return res


def section_rcvtls():
    """The receive path with small messages, the connection on a TLS port or not:
    on a TLS port every small in-order segment is looked at as a possible alert."""
    bpf_stats(True)
    try:
        plain, tls = [], []
        for _ in range(ROUNDS):
            plain.append(rcv_cost("tcpvitals", "small"))
            tls.append(rcv_cost("tcpvitals", "small", ("--json", "--tls-port", str(CHURN_PORT))))
    finally:
        bpf_stats(False)
    res = {"plain": statistics.median(plain), "tls": statistics.median(tls),
           "rounds_plain": plain, "rounds_tls": tls}
    log("rcvtls: small messages over empty, not a TLS port %+.1f ns, a TLS port %+.1f ns (medians of %d)" % (
        res["plain"], res["tls"], ROUNDS))
    return res


def section_rcvdelta():
    """What a change costs on the receive path: this build against another
    (BENCH_BEFORE=path/to/its/tcpvitals), interleaved, bulk and small messages."""
    before = os.environ["BENCH_BEFORE"]
    bpf_stats(True)
    res = {"before": os.environ.get("BENCH_BEFORE_LABEL", before)}
    try:
        for load in ("bulk", "small"):
            old, new = [], []
            for _ in range(ROUNDS):
                old.append(rcv_cost("tcpvitals", load, binary=before))
                new.append(rcv_cost("tcpvitals", load))
            # this VM flips between regimes tens of ns apart: the pairs, run back to
            # back, are what compares
            res[load] = {"before": statistics.median(old), "after": statistics.median(new),
                         "added": statistics.median(b - a for a, b in zip(old, new)),
                         "rounds_before": old, "rounds_after": new}
            log("rcvdelta %s: over empty, before %+.1f ns, after %+.1f ns; added %+.1f ns (median of %d pairs)" % (
                load, res[load]["before"], res[load]["after"], res[load]["added"], ROUNDS))
    finally:
        bpf_stats(False)
    return res


def fmt(v):
    return "-" if v is None else "%.1f" % v


def ratio_rounds(tool, load):
    """Interleaved pairs of untraced and traced runs; the pair's order alternates."""
    ratios, rates = [], []
    for r in range(ROUNDS):
        pair = {}
        for traced in ((False, True) if r % 2 == 0 else (True, False)):
            if load == "churn":
                settle()
            if traced:
                tool.start()
            try:
                pair[traced] = LOADS[load]()
            finally:
                if traced:
                    tool.stop()
        ratios.append(pair[True] / pair[False])
        rates.append(pair[False])
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
            "rounds": ratios, "untraced_median": statistics.median(rates)}


def section_throughput():
    bpf_stats(False)
    check_floor()
    res = {}
    for load in ("small", "bulk"):
        res[load] = {}
        for tool in compared_tools():
            res[load][tool.name] = ratio_rounds(tool, load)
            r = res[load][tool.name]
            log("throughput %-5s %-16s traced/untraced median %.3f (%.3f to %.3f), untraced %.4g/s" % (
                load, tool.name, r["median"], r["min"], r["max"], r["untraced_median"]))
    return res


class BlindSpot:
    """Destroys of the churn's sockets that ran where the kernel runs no BPF program
    at all (README "Limits you should know", tools/blindspot.sh): ftrace records
    tcp_destroy_sock, and a plain program (tools/bench/blind.bpf.o) counts its own
    runs there per thread; a thread with destroys in ftrace and no run of its own is
    one the kernel hides from every BPF program, and no counter of tcpvitals sees."""
    T = "/sys/kernel/tracing"
    LINE = re.compile(r"^\s*(.*)-(\d+)\s+\[\d+\].* tcp_destroy_sock: .*sport=(\d+) dport=(\d+)")

    def tracefs(self, path, value):
        with open(os.path.join(self.T, path), "w") as f:
            f.write(value)

    def start(self):
        self.tracefs("tracing_on", "0")
        self.tracefs("trace", "")
        with open(os.path.join(self.T, "buffer_size_kb")) as f:
            self.buffer_kb = f.read().split()[0]
        self.tracefs("buffer_size_kb", "100000")
        self.tracefs("events/tcp/tcp_destroy_sock/enable", "1")
        self.proc = subprocess.Popen([os.path.join(BENCH, "attach_empty"), os.path.join(BENCH, "blind.bpf.o")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the counting program did not load")
        self.tracefs("tracing_on", "1")

    def stop(self):
        """The churn's destroys in threads where the counting program never ran."""
        self.tracefs("tracing_on", "0")
        dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "name", "blind_runs"],
                                         capture_output=True, text=True, check=True).stdout)
        ran = {e["formatted"]["key"]["tid"] for e in dump if e["formatted"]["key"]["tp"] == 2}
        self.proc.stdin.close()
        self.proc.wait()
        self.tracefs("events/tcp/tcp_destroy_sock/enable", "0")
        unseen = 0
        with open(os.path.join(self.T, "trace"), errors="replace") as f:
            for line in f:
                m = self.LINE.match(line)
                if m and CHURN_PORT in (int(m.group(3)), int(m.group(4))) and int(m.group(2)) not in ran:
                    unseen += 1
        self.tracefs("trace", "")
        self.tracefs("buffer_size_kb", self.buffer_kb)
        return unseen


def section_churn():
    bpf_stats(False)
    res = {"tools": {}}
    for tool in compared_tools():
        r = ratio_rounds(tool, "churn")
        res["tools"][tool.name] = {"rate": r}
        log("churn %-16s rate traced/untraced median %.3f (%.3f to %.3f), untraced %.0f/s" % (
            tool.name, r["median"], r["min"], r["max"], r["untraced_median"]))
    # CPU per connection, statistics on: the tool's process plus its programs' run time
    bpf_stats(True)
    try:
        for tool in compared_tools():
            settle()
            blind = BlindSpot() if isinstance(tool, Tcpvitals) else None
            if blind:  # before the tool, whose programs are the ones new at its start
                blind.start()
            tool.start()
            subprocess.run(ns("nstat", "-n"), check=True)
            c0, p0 = cpu_s(tool.proc.pid), progs()
            rate, conns = churn()
            time.sleep(1)  # the tool catches up with the records
            c1, p1 = cpu_s(tool.proc.pid), progs()
            # connections the client completed whose server end never became a socket:
            # the final ACK dropped with the accept queue full
            never = sum(nstat_delta(k) for k in ("TcpExtListenOverflows",))
            bpf_ns = sum(p1[i][1] - p0.get(i, p1[i])[1] for i in tool.prog_ids if i in p1)
            if isinstance(tool, Dumpcap):
                bpf_ns = 0
            tool.stop()
            hidden = blind.stop() if blind else 0
            entry = res["tools"][tool.name]
            entry.update({"connections": conns, "process_ms": (c1 - c0) * 1e3, "bpf_ms": bpf_ns / 1e6,
                          "cpu_us_per_conn": ((c1 - c0) * 1e9 + bpf_ns) / conns / 1e3})
            if isinstance(tool, Tcpvitals):
                entry["closes"], entry["lost"], entry["missed"] = tool.closes_and_lost()
                entry["sockets"] = 2 * conns
                entry["listen_overflows"] = never
                entry["destroys_hidden"] = hidden
            log("churn %-16s %d connections: process %.0f ms, BPF %.0f ms, %.1f us CPU per connection%s" % (
                tool.name, conns, entry["process_ms"], entry["bpf_ms"], entry["cpu_us_per_conn"],
                ", %d closes for %d sockets, %d lost, %d missed, %d destroys hidden from BPF" % (
                    entry["closes"], entry["sockets"], entry["lost"], entry["missed"], entry["destroys_hidden"])
                if "closes" in entry else ""))
    finally:
        bpf_stats(False)
    return res


def section_collector():
    settle()
    rec = os.path.join(SHM, "churn.rec")
    tool = Tcpvitals("--json", "--record", rec)
    tool.start()
    churn()
    time.sleep(1)
    tool.stop()
    res = {"bytes": os.path.getsize(rec)}
    for fmt in ("json", "text"):
        out = subprocess.run(["taskset", "-c", "0", os.path.join(BENCH, "replay"), rec, fmt, "5"],
                             capture_output=True, text=True, check=True).stdout.split()
        res[fmt] = {"records": int(out[0]), "seconds": float(out[1]), "records_per_s": float(out[2]),
                    "first_records_per_s": float(out[4])}
        log("collector %-4s %d records in %.3f s: %.0f records/s on one core (first pass %.0f)" % (
            fmt, res[fmt]["records"], res[fmt]["seconds"], res[fmt]["records_per_s"],
            res[fmt]["first_records_per_s"]))
    os.unlink(rec)
    return res


def section_memory():
    res = {}
    for seconds in (SECS, SECS * 4):
        settle()
        tool = Tcpvitals("--json")
        tool.start()
        rate, conns = churn(seconds)
        time.sleep(1)
        res[str(conns)] = vm_hwm_kb(tool.proc.pid)
        tool.stop()
        log("memory: VmHWM %d kB after %d connections" % (res[str(conns)], conns))
    return res


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def section_agent():
    bpf_stats(False)
    res = {}
    agent = Tcpvitals("--agent", "--interval", "60", "--tls-check", "off")
    res["churn"] = ratio_rounds(agent, "churn")
    r = res["churn"]
    log("agent churn rate traced/untraced median %.3f (%.3f to %.3f), untraced %.0f/s" % (
        r["median"], r["min"], r["max"], r["untraced_median"]))
    want = int(os.environ.get("BENCH_AGENT_CONNS", "5000000"))
    settle()
    agent = Tcpvitals("--agent", "--interval", "10", "--tls-check", "off")
    agent.start()
    samples, total, t0 = [], 0, time.monotonic()
    try:
        while total < want:
            _, n = churn(10)
            total += n
            samples.append((total, rss_kb(agent.proc.pid)))
            log("agent: %d connections, RSS %d kB" % samples[-1])
    finally:
        time.sleep(1)
        hwm = vm_hwm_kb(agent.proc.pid)
        agent.stop()
    # warm-up: the first sample past a tenth of the run
    warm = next(s for s in samples if s[0] >= want / 10)
    after = [s[1] for s in samples if s[0] >= warm[0]]
    res["rss"] = {"connections": total, "seconds": time.monotonic() - t0, "samples": samples,
                  "warm_connections": warm[0], "warm_kb": warm[1], "last_kb": samples[-1][1],
                  "max_after_warm_kb": max(after), "min_after_warm_kb": min(after), "vm_hwm_kb": hwm,
                  "max_growth_pct": 100.0 * (max(after) - warm[1]) / warm[1]}
    log("agent: %d connections; RSS %d kB after %d (warm-up), last %d kB, %d to %d kB after warm-up "
        "(at most %+.1f%% over the first)" % (total, warm[1], warm[0], samples[-1][1], min(after), max(after),
                                               res["rss"]["max_growth_pct"]))
    return res


SECTIONS = {"hooks": section_hooks, "rcvpath": section_rcvpath, "rcvtls": section_rcvtls,
            "rcvdelta": section_rcvdelta, "throughput": section_throughput,
            "churn": section_churn,
            "collector": section_collector, "memory": section_memory, "agent": section_agent}


def main():
    if os.geteuid() != 0:
        sys.exit("bench: needs root (BPF, namespaces); try sudo make bench")
    if not os.path.isdir("/sys/kernel/tracing/events"):
        run("mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing")  # libbpf-tools need it
    path = os.path.join(BENCH, "results.json")
    results = {}
    if ONLY and os.path.exists(path):
        with open(path) as f:
            results = json.load(f)  # keep the other sections of the last full run
    results.update({"date": time.strftime("%Y-%m-%d"), "kernel": platform.release(), "cpus": os.cpu_count(),
                    "seconds": SECS, "rounds": ROUNDS})
    run("ip", "netns", "add", NS)
    servers = []
    try:
        run(*ns("ip", "link", "set", "lo", "mtu", "1500", "up"))
        run(*ns("sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=1024 65535"))
        servers.append(subprocess.Popen(ns("iperf3", "-s", "-p", str(IPERF_PORT)), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        servers.append(subprocess.Popen(ns(os.path.join(BENCH, "churn"), "server", "127.0.0.1", str(CHURN_PORT))))
        wait_for(lambda: listening(IPERF_PORT) and listening(CHURN_PORT), "the servers")
        for name, fn in SECTIONS.items():
            if name == "rcvdelta" and "BENCH_BEFORE" not in os.environ:
                continue
            if not ONLY or name in ONLY:
                log("## " + name)
                results[name] = fn()
    finally:
        bpf_stats(False)
        for s in servers:
            s.kill()
            s.wait()
        subprocess.run(["ip", "netns", "del", NS])
        subprocess.run(["rm", "-rf", SHM])
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    log("results: " + path)


if __name__ == "__main__":
    main()
