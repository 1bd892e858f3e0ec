#!/usr/bin/env python3
"""Benchmarks lambda-ci against the other ways of running the same Lambda invocations, all in
one process: interleaved rounds, medians, ratios (ratios survive a noisy machine), and the
table written into BENCHMARKS.md between its markers.

    scripts/bench.py [--rounds N] [--only one,repo,pool,phases,watch,reload,saves,serve,front,cost,api] [--no-sam] [--no-build] [--write]

Needs the stand-in images (scripts/standin-images.sh) and, for the SAM rows, SAM CLI
(`pip install aws-sam-cli`, found on PATH or in $SAM); the SAM rows are left out without it.
Run it by hand on a quiet machine; it is never part of the test suite.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "tests/fixtures/functions/py"
IMAGE = "public.ecr.aws/lambda/python:3.11"
# SAM builds on the architecture-suffixed tag of the same image.
SAM_IMAGE = IMAGE + "-x86_64"
BIN = ROOT / "target/release/lambda-ci"
INVOKE = "/2015-03-31/functions/function/invocations"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout.strip()


def timed(args, **kw):
    """Runs a command; returns (seconds, max RSS in KiB, CPU seconds) of that process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    took = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{args[0]} exited with {p.returncode}")
    return took, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


# ---- suites -----------------------------------------------------------------------------

def suite(dir_, name, handler, cases, top=""):
    """A suite file; `top` holds suite keys (`concurrency: 2\\n`) beside `function:`."""
    lines = [f"function:\n  name: {name}\n  runtime: python3.11\n  handler: {handler}\n"
             f"  code: {CODE}\n{top}cases:\n"]
    for i, (event, expect) in enumerate(cases, 1):
        lines.append(f"  - name: case {i}\n    event: {json.dumps(event)}\n"
                     f"    expect:\n      response: {json.dumps(expect)}\n")
    path = Path(dir_) / f"{name}.yaml"
    path.write_text("".join(lines))
    return path


def echo_cases(n):
    return [({"n": i, "name": f"case-{i}"},) * 2 for i in range(1, n + 1)]


def lambda_ci(paths, *flags):
    junit = tempfile.mktemp(suffix=".xml")
    try:
        return timed([str(BIN), "run", *map(str, paths), "--pull", "never",
                      "--junit", junit, *flags])
    finally:
        if os.path.exists(junit):
            os.remove(junit)


def supports(flag_or_key, dir_):
    """Whether this build of lambda-ci knows a flag (`--jobs`) or a suite key."""
    if flag_or_key.startswith("--"):
        out = subprocess.run([str(BIN), "run", "--help"], capture_output=True, text=True)
        return flag_or_key in out.stdout
    probe = suite(dir_, "probe", "app.echo", [({}, {})], f"{flag_or_key}\n")
    out = subprocess.run([str(BIN), "list", str(probe)], capture_output=True, text=True)
    return out.returncode == 0


# ---- the plain method: docker run + one persistent client + docker rm --------------------

class Plain:
    """One function container started by the docker CLI, called by one keep-alive client."""

    def __init__(self, handler="app.echo"):
        self.id = sh("docker", "run", "-d", "-p", "127.0.0.1::8080", "-v",
                     f"{CODE}:/var/task:ro", IMAGE, handler)
        port = sh("docker", "port", self.id, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
        self.conn = None
        deadline = time.time() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
                c.request("GET", "/")
                c.getresponse().read()
                self.conn = c
                break
            except (OSError, http.client.HTTPException):
                if time.time() > deadline:
                    raise
                time.sleep(0.02)

    def invoke(self, event):
        self.conn.request("POST", INVOKE, json.dumps(event),
                          {"Content-Type": "application/json"})
        return self.conn.getresponse().read()

    def remove(self):
        self.conn.close()
        sh("docker", "rm", "-f", self.id)


def plain_run(events, handler="app.echo"):
    t0 = time.perf_counter()
    p = Plain(handler)
    for e in events:
        p.invoke(e)
    p.remove()
    return time.perf_counter() - t0


def plain_parallel(functions, cases):
    """The same work scripted by hand in parallel: one docker run and one client each."""
    t0 = time.perf_counter()
    threads = [threading.Thread(target=plain_run, args=([c for c, _ in cases],))
               for _ in range(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


# ---- SAM CLI ----------------------------------------------------------------------------

def sam_binary():
    return os.environ.get("SAM") or shutil.which("sam") or (
        "/opt/sam-venv/bin/sam" if os.path.exists("/opt/sam-venv/bin/sam") else None)


def sam_template(dir_, names, handler="app.echo"):
    body = ["AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"]
    for n in names:
        body.append(f"  {n}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                    f"      CodeUri: {CODE}\n      Handler: {handler}\n      Runtime: python3.11\n"
                    f"      Timeout: 30\n")
    path = Path(dir_) / "template.yaml"
    path.write_text("".join(body))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sam_start_lambda(sam, template, calls):
    """From `sam local start-lambda --warm-containers EAGER` to the last of `calls`
    (function name → events, called one after another per function, functions in
    parallel)."""
    port = free_port()
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    before = set(sam_containers())
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [sam, "local", "start-lambda", "-t", str(template), "-p", str(port),
         "--warm-containers", "EAGER", "--skip-pull-image"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        def call_all(name, events):
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    for e in events:
                        c.request("POST", f"/2015-03-31/functions/{name}/invocations",
                                  json.dumps(e))
                        c.getresponse().read()
                    return
                except (ConnectionRefusedError, ConnectionResetError):
                    time.sleep(0.05)

        threads = [threading.Thread(target=call_all, args=item) for item in calls.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0
    finally:
        os.killpg(server.pid, 15)
        server.wait()
        # SAM stopped while it still created a warm container leaves that one running.
        left = [c for c in sam_containers() if c not in before]
        if left:
            sh("docker", "rm", "-f", *left)


def sam_containers():
    return sh("docker", "ps", "-aq", "--filter", "label=sam.cli.container.type=lambda").split()


def sam_invoke(sam, template, event, times):
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
    t0 = time.perf_counter()
    for _ in range(times):
        subprocess.run([sam, "local", "invoke", "-t", str(template), "-e", f.name,
                        "--skip-pull-image"], check=True, capture_output=True, env=env)
    os.remove(f.name)
    return time.perf_counter() - t0


# ---- the benchmarks ---------------------------------------------------------------------

class Table:
    def __init__(self):
        self.rows = []

    def add(self, bench, what, seconds, note="", unit="s"):
        if unit == "ms":
            seconds = [x * 1000 for x in seconds]
        self.rows.append((bench, what, statistics.median(seconds), seconds, note, unit))
        print(f"  {bench}: {what}: median {statistics.median(seconds):.3f} {unit} "
              f"({', '.join(f'{s:.3f}' for s in seconds)}) {note}", flush=True)

    def median(self, bench, what):
        return next(r[2] for r in self.rows if r[0] == bench and r[1] == what)



def rounds_of(n, contenders):
    """Runs every contender once per round, rotating the order; returns name → times."""
    times = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(n):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(contenders[name]())
    return times


def bench_one(table, n, work, sam):
    s = suite(work, "fifty", "app.echo", echo_cases(50))
    events = [e for e, _ in echo_cases(50)]
    contenders = {
        "lambda-ci run (50 cases)": lambda: lambda_ci([s])[0],
        "docker run + persistent client + docker rm": lambda: plain_run(events),
    }
    if sam:
        t = sam_template(work, ["Fifty"])
        contenders["sam local start-lambda --warm-containers EAGER + 50 calls"] = (
            lambda: sam_start_lambda(sam, t, {"Fifty": events}))
        contenders["sam local invoke × 10, scaled to 50"] = (
            lambda: sam_invoke(sam, t, events[0], 10) * 5)
    for name, secs in rounds_of(n, contenders).items():
        table.add("one function, 50 warm cases", name, secs)


def bench_repo(table, n, work, sam):
    names = [f"fn{i:02d}" for i in range(16)]
    paths = [suite(work, name, "app.echo", echo_cases(10)) for name in names]
    contenders = {"lambda-ci run (default)": lambda: lambda_ci(paths)[0]}
    if supports("--jobs", work):
        contenders["lambda-ci run -j 1"] = lambda: lambda_ci(paths, "-j", "1")[0]
        contenders["lambda-ci run -j 4"] = lambda: lambda_ci(paths, "-j", "4")[0]
    contenders["16 × docker run in parallel, one client each"] = (
        lambda: plain_parallel(16, echo_cases(10)))
    if sam:
        t = sam_template(work, [n_.upper() for n_ in names])
        events = [e for e, _ in echo_cases(10)]
        contenders["sam local start-lambda, 16 functions in one template"] = (
            lambda: sam_start_lambda(sam, t, {n_.upper(): events for n_ in names}))
    for name, secs in rounds_of(n, contenders).items():
        table.add("a repository: 16 functions × 10 cases", name, secs)


def bench_pool(table, n, work):
    cases = [({"seconds": 0.02}, {"slept": True})] * 200
    if not supports("concurrency: 2", work):
        paths = suite(work, "pool1", "app.sleep", cases)
        for name, secs in rounds_of(n, {"lambda-ci run, 1 container": lambda: lambda_ci([paths])[0]}).items():
            table.add("a pool: 200 cases of 20 ms", name, secs,
                      "(this build has no `concurrency:`)")
        return
    contenders = {}
    for k in (1, 2, 4):
        p = suite(work, f"pool{k}", "app.sleep", cases, f"concurrency: {k}\n")
        contenders[f"lambda-ci run, concurrency: {k}"] = (lambda p=p: lambda_ci([p])[0])
    for name, secs in rounds_of(n, contenders).items():
        table.add("a pool: 200 cases of 20 ms", name, secs)


def bench_cost(table, n, work):
    small = suite(work, "cost50", "app.echo", echo_cases(50))
    big = suite(work, "cost1000", "app.echo", echo_cases(1000))
    events = [e for e, _ in echo_cases(1000)]
    per_case, bare, rss, cpu = [], [], [], []
    for _ in range(n):
        t50 = lambda_ci([small])[0]
        t1000, max_rss, cpu_s = lambda_ci([big])
        per_case.append((t1000 - t50) / 950)
        rss.append(max_rss / 1024)
        cpu.append(cpu_s / 1000)
        p = Plain()
        t0 = time.perf_counter()
        for e in events:
            p.invoke(e)
        bare.append((time.perf_counter() - t0) / 1000)
        p.remove()
    table.add("cost", "lambda-ci, time per case (1,000 − 50 cases)", per_case, "", "ms")
    table.add("cost", "bare persistent client, time per invocation", bare, "", "ms")
    over = statistics.median(per_case) - statistics.median(bare)
    print(f"  cost: overhead per invocation {over * 1000:.3f} ms; "
          f"peak RSS for 1,000 cases {statistics.median(rss):.1f} MB; "
          f"lambda-ci CPU per case {statistics.median(cpu) * 1000:.3f} ms")
    table.rows.append(("cost", "overhead per invocation over the bare client",
                       over, [], f"{over * 1000:.3f} ms", "s"))
    table.rows.append(("cost", "peak RSS, 1,000 cases in one suite", 0, [],
                       f"{statistics.median(rss):.1f} MB", "s"))
    table.rows.append(("cost", "lambda-ci's own CPU time per case", 0, [],
                       f"{statistics.median(cpu) * 1000:.3f} ms", "s"))


def bench_api(table, n, work):
    """lambda-ci's agent against RIE: what each warm invocation costs, and how long a run takes
    to get past a timeout: the runtime reset in its container, or a fresh container."""
    small = suite(work, "api50", "app.echo", echo_cases(50))
    big = suite(work, "api1000", "app.echo", echo_cases(1000))
    for api in ("lambda-ci", "rie"):
        per = []
        for _ in range(n):
            t50 = lambda_ci([small], "--runtime-api", api)[0]
            t1000 = lambda_ci([big], "--runtime-api", api)[0]
            per.append((t1000 - t50) / 950)
        table.add("runtime API: time per warm invocation (1,000 − 50 cases)",
                  f"--runtime-api {api}", per, "", "ms")

    def recovery(name, isolation):
        path = Path(work) / f"{name}.yaml"
        path.write_text(
            f"function:\n  name: {name}\n  runtime: python3.11\n  handler: app.sleep\n"
            f"  code: {CODE}\n  timeout: 1\ncases:\n"
            "  - name: times out\n    event: {seconds: 3}\n"
            "    expect: {error: {type: Sandbox.Timedout}}\n"
            f"  - name: after\n    event: {{seconds: 0}}\n{isolation}"
            "    expect: {response: {slept: true}}\n")
        return path
    warm = recovery("recover-warm", "")
    cold = recovery("recover-cold", "    isolation: cold\n")
    contenders = {
        "timeout then a case: the agent resets the runtime in place": lambda: lambda_ci([warm])[0],
        "timeout then a case: RIE resets in place": lambda: lambda_ci([warm], "--runtime-api", "rie")[0],
        "timeout then a case in a fresh container (agent)": lambda: lambda_ci([cold])[0],
    }
    for name, secs in rounds_of(n, contenders).items():
        table.add("runtime API: getting past a timeout (1 s)", name, secs)


def docker_events(since, until):
    """The engine's container events between two wall-clock times, lambda-ci's only."""
    out = sh("docker", "events", "--since", f"{since:.6f}", "--until", f"{until:.6f}",
             "--filter", "type=container", "--filter", "label=lambda-ci",
             "--format", "{{json .}}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def bench_phases(table, n, work):
    """Where the time of one 50-case suite goes, from the engine's event stamps, the JSON
    report's round trips and the process's own start and end."""
    s = suite(work, "phases", "app.echo", echo_cases(50))
    listed = suite(work, "listed", "app.echo", echo_cases(50))
    names = ["process start and YAML (lambda-ci list)",
             "connect, image check, blueprint, create (start → create)",
             "mount probe container (create → removed; 0: the first container tells)",
             "after the probe (→ create)",
             "attach, start (create → start)",
             "RIE ready and the witness read, first invoke with init, judging",
             "49 warm invokes (round trips)",
             "removal (kill → destroyed), reports meanwhile",
             "sweep, exit (destroyed → exit)"]
    phases = {name: [] for name in names}
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([str(BIN), "list", str(listed)], check=True, capture_output=True)
        phases[names[0]].append(time.perf_counter() - t0)
        report = Path(work) / "phases.json"
        start = time.time()
        subprocess.run([str(BIN), "run", str(s), "--pull", "never", "--json", str(report)],
                       check=True, capture_output=True)
        end = time.time()
        time.sleep(0.2)
        events = docker_events(start - 0.01, time.time())
        at = {}
        for e in events:
            name = e["Actor"]["Attributes"].get("name", "")
            who = "probe" if name.endswith("-probe") else "fn"
            at.setdefault((who, e["Action"].split(":")[0]), e["timeNano"] / 1e9)
        cases = json.loads(report.read_text())["suites"][0]["cases"]
        trips = [c["timings"]["round_trip_ms"] / 1000 for c in cases]
        first, warm = trips[0], sum(trips[1:])
        ready_and_between = at[("fn", "kill")] - at[("fn", "start")] - first - warm
        probe = ("probe", "create") in at
        phases[names[1]].append((at[("probe", "create")] if probe else at[("fn", "create")]) - start)
        phases[names[2]].append(at[("probe", "destroy")] - at[("probe", "create")] if probe else 0)
        phases[names[3]].append(at[("fn", "create")] - (at[("probe", "destroy")] if probe else at[("fn", "create")]))
        phases[names[4]].append(at[("fn", "start")] - at[("fn", "create")])
        # RIE answers its readiness probe before the first invoke, which carries the init.
        phases[names[5]].append(first + ready_and_between)
        phases[names[6]].append(warm)
        phases[names[7]].append(at[("fn", "destroy")] - at[("fn", "kill")])
        phases[names[8]].append(end - at[("fn", "destroy")])
    for name in names:
        table.add("where the time goes: one suite, 50 cases", name, phases[name], "", "ms")


INIT = re.compile(r"init (\d+) ms")


def bench_watch(table, n, work):
    """`lambda-ci watch` over ten functions: from saving one function's code to its verdict
    on screen (the run's summary line); lambda-ci's share leaves out the function's own init
    (its REPORT figure, shown on the case's line), not the debounce."""
    base = Path(work) / "watched"
    base.mkdir()
    for i in range(10):
        code = base / f"code{i}"
        code.mkdir()
        (code / "app.py").write_text("def handler(event, context):\n    return {'v': 0}\n")
        (base / f"fn{i}.yaml").write_text(
            f"function:\n  name: fn{i}\n  runtime: python3.11\n  handler: app.handler\n"
            f"  code: code{i}\ncases:\n  - name: answers\n    event: {{}}\n")
    p = subprocess.Popen([str(BIN), "watch", str(base), "--pull", "never"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    lines = []
    def read():
        for line in p.stdout:
            lines.append((time.perf_counter(), line))
    threading.Thread(target=read, daemon=True).start()
    def wait(count):
        deadline = time.time() + 60
        while sum("watching 10 suites" in l for _, l in lines) < count:
            if time.time() > deadline:
                raise RuntimeError("watch did not answer:\n" + "".join(l for _, l in lines))
            time.sleep(0.002)
    wait(1)
    took, own = [], []
    for r in range(n):
        time.sleep(0.5)
        seen = len(lines)
        t0 = time.perf_counter()
        (base / "code3" / "app.py").write_text(
            f"def handler(event, context):\n    return {{'v': {r + 1}}}\n")
        wait(r + 2)
        verdict = next(t for t, l in lines[seen:] if " passed, " in l)
        init = next((int(m.group(1)) for _, l in lines[seen:] if (m := INIT.search(l))), 0)
        took.append(verdict - t0)
        own.append(verdict - t0 - init / 1000)
    p.send_signal(2)
    p.wait(timeout=30)
    what = "watch: ten functions, one saved"
    table.add(what, "save → its verdict on screen", took, "with the function's init")
    table.add(what, "lambda-ci's share (without the init)", own,
              "50 ms debounce, runtime restarted in its warm container")


def bench_serve_reload(table, n, work):
    """`lambda-ci serve`: from saving a function's code to the first call answered by the new
    code (calls sent back to back); lambda-ci's share leaves out the new runtime's init (the
    REPORT's `Init Duration` of that call)."""
    code = Path(work) / "served-code"
    code.mkdir()
    app = "def handler(event, context):\n    return {{'v': {}}}\n"
    (code / "app.py").write_text(app.format(0))
    s = Path(work) / "reloaded.yaml"
    s.write_text(f"function:\n  name: reloaded\n  runtime: python3.11\n  handler: app.handler\n"
                 f"  code: {code}\ncases:\n  - name: a\n    event: {{}}\n")
    port = free_port()
    p = subprocess.Popen([str(BIN), "serve", str(s), "--pull", "never", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = "/2015-03-31/functions/reloaded/invocations"
    def call():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", path, b"{}", {"X-Amz-Log-Type": "Tail"})
        r = c.getresponse()
        body, logs = r.read(), r.getheader("X-Amz-Log-Result") or ""
        c.close()
        return json.loads(body), base64.b64decode(logs).decode(errors="replace")
    deadline = time.time() + 30
    while True:
        try:
            call()
            break
        except (OSError, ValueError):
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    took, own = [], []
    for r in range(n):
        time.sleep(0.5)
        t0 = time.perf_counter()
        (code / "app.py").write_text(app.format(r + 1))
        while True:
            answer, logs = call()
            if answer.get("v") == r + 1:
                break
        t = time.perf_counter() - t0
        init = re.search(r"Init Duration: ([\d.]+) ms", logs)
        took.append(t)
        own.append(t - (float(init.group(1)) / 1000 if init else 0))
    p.send_signal(2)
    p.wait(timeout=30)
    what = "serve: one function, its code saved"
    table.add(what, "save → first call answered by the new code", took, "with the function's init")
    table.add(what, "lambda-ci's share (without the init)", own,
              "50 ms debounce, runtime restarted in place")


def bench_saves(table, n, work):
    """How long one editor save's file events take to arrive, by pattern: what the watch
    debounce must absorb (inotify, on this machine's disk)."""
    import ctypes
    import select
    import struct
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    mask = 0x00000fff & ~0x1 & ~0x10 & ~0x20  # all but access, close-nowrite and open

    def events_of(save):
        d = tempfile.mkdtemp(dir=work)
        p = os.path.join(d, "app.py")
        Path(p).write_text("x = 0\n")
        fd = libc.inotify_init1(os.O_NONBLOCK)
        libc.inotify_add_watch(fd, d.encode(), mask)
        stamps = []

        def read():
            # Read while the save happens: each read's events are stamped when they arrive.
            end = time.perf_counter() + 1.0
            while time.perf_counter() < end:
                ready, _, _ = select.select([fd], [], [], 0.001)
                if ready:
                    t, data, off = time.perf_counter(), os.read(fd, 65536), 0
                    while off < len(data):
                        off += 16 + struct.unpack_from("iIII", data, off)[3]
                        stamps.append(t)
                    end = t + 0.3
        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.05)
        save(p)
        reader.join()
        os.close(fd)
        shutil.rmtree(d)
        return stamps

    def in_place(p):
        Path(p).write_text("x = 1\n" * 50)

    def rename_over(p):
        Path(p + ".tmp").write_text("x = 2\n" * 50)
        os.rename(p + ".tmp", p)

    def vim(p):
        os.rename(p, p + "~")
        Path(p).write_text("x = 3\n" * 50)
        os.unlink(p + "~")

    def jetbrains(p):
        Path(p + "___jb_tmp___").write_text("x = 4\n" * 50)
        os.rename(p, p + "___jb_old___")
        os.rename(p + "___jb_tmp___", p)
        os.unlink(p + "___jb_old___")

    for name, save in [("write in place", in_place), ("write, rename over", rename_over),
                       ("vim: backup, write, delete", vim), ("JetBrains safe write", jetbrains)]:
        runs = [events_of(save) for _ in range(max(n, 10))]
        spans = [(s[-1] - s[0]) if s else 0 for s in runs]
        counts = sorted({len(s) for s in runs})
        table.add("an editor's save, its file events", name, spans,
                  f"{'-'.join(map(str, counts))} events; first to last", unit="ms")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_serve(table, n, work):
    """`lambda-ci serve` under load: 1,000 calls from 50 concurrent keep-alive clients to one
    function with `concurrency: 4`; throughput, latency percentiles, and the server's RSS."""
    s = suite(work, "served", "app.echo", [({}, {})], "concurrency: 4\n")
    port = free_port()
    p = subprocess.Popen([str(BIN), "serve", str(s), "--pull", "never", "--port", str(port),
                          "--no-watch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = "/2015-03-31/functions/served/invocations"
    deadline = time.time() + 30
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", path, b"{}")
            c.getresponse().read()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    throughput, p50, p95, p99, rss = [], [], [], [], []
    for _ in range(n):
        per_second, fifty, ninety_five, ninety_nine = hammer(
            port, "POST", lambda i: path, lambda i: json.dumps({"id": i}))
        throughput.append(per_second)
        p50.append(fifty)
        p95.append(ninety_five)
        p99.append(ninety_nine)
        rss.append(rss_mb(p.pid))
    p.send_signal(2)
    p.wait(timeout=30)
    what = "serve: 1,000 calls, 50 clients, concurrency 4"
    table.add(what, "throughput", throughput, "calls per second", unit="calls/s")
    table.add(what, "latency p50", p50, "", "ms")
    table.add(what, "latency p95", p95, "", "ms")
    table.add(what, "latency p99", p99, "", "ms")
    table.rows.append((what, "server RSS after each round", 0, [],
                       ", ".join(f"{r:.1f} MB" for r in rss), "s"))


def hammer(port, method, path, payload):
    """1,000 requests from 50 keep-alive clients; (calls per second, p50, p95, p99)."""
    latencies = []
    lock = threading.Lock()
    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(20):
            t0 = time.perf_counter()
            conn.request(method, path(k * 20 + i), payload(k * 20 + i))
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            with lock:
                latencies.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    took = time.perf_counter() - t0
    latencies.sort()
    return 1000 / took, latencies[499], latencies[949], latencies[989]


def bench_front(table, n, work):
    """`serve`'s HTTP front door against its Invoke API on the same function (`concurrency:
    4`): 1,000 requests from 50 clients each way; what the front door adds per call (matching
    the route, building the event, turning the answer into the HTTP response)."""
    s = Path(work) / "front.yaml"
    s.write_text(f"function:\n  name: front\n  runtime: python3.11\n  handler: app.echo\n"
                 f"  code: {CODE}\n  http:\n    - {{api: http, path: \"/{{proxy+}}\"}}\n"
                 f"concurrency: 4\ncases:\n  - name: a\n    event: {{}}\n")
    port, api_port = free_port(), free_port()
    p = subprocess.Popen([str(BIN), "serve", str(s), "--pull", "never", "--port", str(port),
                          "--api-port", str(api_port), "--no-watch"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
            c.request("GET", "/warm")
            c.getresponse().read()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    invoke = "/2015-03-31/functions/front/invocations"
    # Every container booted before anything is timed.
    hammer(api_port, "GET", lambda i: "/warm", lambda i: None)
    rows = {"front door": [], "Invoke API": []}
    for _ in range(n):
        rows["front door"].append(hammer(api_port, "GET", lambda i: f"/items/{i}?q=1",
                                         lambda i: None))
        rows["Invoke API"].append(hammer(port, "POST", lambda i: invoke,
                                         lambda i: json.dumps({"rawPath": f"/items/{i}"})))
    p.send_signal(2)
    p.wait(timeout=30)
    what = "serve: 1,000 HTTP calls, 50 clients, concurrency 4"
    for door, results in rows.items():
        table.add(what, f"{door} throughput", [r[0] for r in results], "calls per second",
                  unit="calls/s")
        table.add(what, f"{door} latency p50", [r[1] for r in results], "", "ms")
        table.add(what, f"{door} latency p99", [r[3] for r in results], "", "ms")


def bench_target(table, n, work):
    """`lambda-ci run --target` against a warm `serve` of the same suite: 50 cases, the whole
    process (loading, 50 Invoke API calls, judging, JUnit), nothing booted; beside it the same
    run booting its own container."""
    s = suite(work, "targeted", "app.echo", echo_cases(50))
    port = free_port()
    p = subprocess.Popen([str(BIN), "serve", str(s), "--pull", "never", "--port", str(port),
                          "--no-watch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            # The first run warms the served container; it is not timed.
            sh(str(BIN), "run", str(s), "--target", target)
            break
        except subprocess.CalledProcessError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    rows = rounds_of(n, {
        "run --target a warm serve": lambda: lambda_ci([s], "--target", target)[0],
        "run (boots its container)": lambda: lambda_ci([s])[0],
    })
    p.send_signal(2)
    p.wait(timeout=30)
    for what, seconds in rows.items():
        table.add("50 cases, whole process", what, seconds)


# ---- BENCHMARKS.md ----------------------------------------------------------------------

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    docker = sh("docker", "version", "--format", "{{.Server.Version}}")
    return f"{os.cpu_count()} cores ({cpu}), {mem / 2**20:.0f} GiB, Docker Engine {docker}"


def render(table, command):
    out = [BEGIN, "", f"`{command}` on {time.strftime('%Y-%m-%d')}, {machine()}.", "",
           "| benchmark | contender | median | rounds | note |", "|---|---|---|---|---|"]
    for bench, what, med, secs, note, unit in table.rows:
        shown = f"{med:.3f} {unit}" if secs else ""
        rounds = ", ".join(f"{s:.3f}" for s in secs)
        out.append(f"| {bench} | {what} | {shown} | {rounds} | {note} |")
    out += ["", END]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only",
                    default="one,repo,pool,phases,watch,reload,saves,serve,front,target,cost,api")
    ap.add_argument("--no-sam", action="store_true")
    ap.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    ap.add_argument("--no-build", action="store_true", help="use target/release as it is")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT,
                       check=True)
    sam = None if args.no_sam else sam_binary()
    if sam:
        subprocess.run(["docker", "tag", IMAGE, SAM_IMAGE], check=True)
    else:
        print("SAM CLI not found: its rows are left out", file=sys.stderr)
    table = Table()
    only = args.only.split(",")
    with tempfile.TemporaryDirectory() as work:
        if "one" in only:
            bench_one(table, args.rounds, work, sam)
        if "repo" in only:
            bench_repo(table, args.rounds, work, sam)
        if "pool" in only:
            bench_pool(table, args.rounds, work)
        if "serve" in only:
            bench_serve(table, args.rounds, work)
        if "front" in only:
            bench_front(table, args.rounds, work)
        if "target" in only:
            bench_target(table, args.rounds, work)
        if "watch" in only:
            bench_watch(table, args.rounds, work)
        if "reload" in only:
            bench_serve_reload(table, args.rounds, work)
        if "saves" in only:
            bench_saves(table, args.rounds, work)
        if "phases" in only:
            bench_phases(table, args.rounds, work)
        if "cost" in only:
            bench_cost(table, max(1, args.rounds // 2), work)
        if "api" in only:
            bench_api(table, max(1, args.rounds // 2), work)
    command = "scripts/bench.py " + " ".join(sys.argv[1:])
    text = render(table, command.strip())
    print(text)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        old = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
        start, end = old.index(BEGIN), old.index(END) + len(END)
        path.write_text(old[:start] + text + old[end:])


if __name__ == "__main__":
    main()
