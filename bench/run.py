#!/usr/bin/env python3
"""Heirloom's benchmark runner (`make bench`; never part of `make test`).

Starts the release binary on a fresh data folder (SQLite, and PostgreSQL when
BENCH_DATABASE_URL or a server on 127.0.0.1:5432 is available), seeds it through the
REST API, drives load from wrk (a separate process) at fixed connection counts, and
writes JSON plus a Markdown table to bench/results/ with the machine's facts. Ratios
between runs on one machine are meaningful; absolute times across machines are not.

After seeding it restarts the binary on the same data (cold start with the stories), and
besides the wrk rows it measures a reference in the same run (server/examples/bare_axum.rs,
a bare axum handler with a fixed 20 KB page: the ceiling for an HTTP response on this
machine), the story page's first load in Chromium (bench/first_load.mjs), and ends the
report with the issue's targets, met or not.

The search scenario generates its archive with backend/examples/search_bench.rs (through
the services, far faster than the REST API), then serves it with the same binary.
"""

import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = ROOT / "bench" / "wrk"
RESULTS = ROOT / "bench" / "results"
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "1,16,64").split(",")]
DURATION = os.environ.get("BENCH_DURATION", "10s")
STORIES = int(os.environ.get("BENCH_STORIES", "10000"))
PORT = int(os.environ.get("BENCH_PORT", "3127"))
SEARCH_STORIES = int(os.environ.get("BENCH_SEARCH_STORIES", "100000"))
SEARCH_EDITS = int(os.environ.get("BENCH_SEARCH_EDITS", "100"))
STORY_PAGES = ["story page (SSR, signed out)", "story page (SSR, member)"]
STORY_CREATE = "story create (REST, with revision + outbox)"
REFERENCE = "reference: bare axum, fixed 20 KB page"
TYPEAHEAD = "typeahead (GET /api/v1/search/suggest)"
# How long the event consumers get to catch up with the seed before the restart.
SETTLE_SECONDS = 600


def words(n, seed):
    vocabulary = ("grandmother orchard river letters summer kitchen harvest village winter songs "
                  "bicycle market chapel school bread garden wedding photograph journey war").split()
    out = [vocabulary[(seed * 7 + i * 13) % len(vocabulary)] for i in range(n)]
    return " ".join(out[i] + (".\n\n" if i % 60 == 59 else "") for i in range(n))


class Measured:
    """A process under load (`self.process`, answering at `self.base`): its CPU time and
    memory, read from /proc, and its start timed up to the first 200 on a path."""

    def launch(self, command, env, ready_path):
        """Starts `command` and waits for 200 on `ready_path`; the milliseconds that took."""
        started = time.monotonic()
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if urllib.request.urlopen(f"{self.base}{ready_path}", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() - started > 300:
                raise SystemExit(f"bench: {command[0]} did not become ready")
            time.sleep(0.02)
        return round((time.monotonic() - started) * 1000, 1)

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self, key):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
        return 0

    def terminate(self):
        """SIGTERM and wait for the exit; the milliseconds the graceful shutdown took."""
        started = time.monotonic()
        self.process.terminate()
        # Generous: the server finishes its background work (index merges) before exiting.
        try:
            self.process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            # A shutdown that hangs is a finding, not a reason to lose the run's figures.
            print(f"bench: process {self.process.pid} did not exit within 300 s of SIGTERM; killed", file=sys.stderr)
            self.process.kill()
            self.process.wait()
            return None
        return round((time.monotonic() - started) * 1000, 1)


class Server(Measured):
    """The release binary on a fresh data folder, and what it costs to run."""

    def __init__(self, binary, site, database_url=None, data=None, env=None, port=None):
        # Another port than BENCH_PORT for a second replica beside the first.
        port = port or PORT
        self.base = f"http://127.0.0.1:{port}"
        # A data folder given by the caller is the caller's to remove.
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="heirloom-bench-")
        extra = env or {}
        env = dict(os.environ, LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", LEPTOS_SITE_ROOT=site, LEPTOS_ENV="PROD",
                   HEIRLOOM_DATA_DIR=self.data, HEIRLOOM_PUBLIC_URL=self.base, HEIRLOOM_LOG_LEVEL="warn",
                   HEIRLOOM_DB_MAX_CONNECTIONS="16",
                   # One load generator is one address: the per-address write and search limits
                   # would measure themselves.
                   HEIRLOOM_WRITES_PER_MINUTE_PER_IP="100000000",
                   HEIRLOOM_SEARCHES_PER_MINUTE_PER_IP="100000000", **extra)
        if database_url:
            env["DATABASE_URL"] = database_url
        self.env = env
        self.command = [binary, "serve"]
        self.cold_start_ms = self.launch(self.command, env, "/readyz")

    def restart(self):
        """Stops the binary and starts it again on the same data: (shutdown ms, new cold start ms)."""
        shutdown_ms = self.terminate()
        self.cold_start_ms = self.launch(self.command, self.env, "/readyz")
        return shutdown_ms, self.cold_start_ms

    def stop(self):
        self.terminate()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)


class BareAxum(Measured):
    """server/examples/bare_axum.rs on a free port: a fixed 20 KB page at `/`."""

    def __init__(self, binary):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.cold_start_ms = self.launch([str(binary), str(port)], dict(os.environ), "/")

    def stop(self):
        self.terminate()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A signed-in member talking JSON to the API."""

    def __init__(self, base):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def post(self, path, body, method="POST"):
        request = urllib.request.Request(f"{self.base}{path}", data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json", "Origin": self.base})
        with self.opener.open(request) as response:
            return json.loads(response.read())

    def put(self, path, body):
        return self.post(path, body, method="PUT")

    def get(self, path):
        request = urllib.request.Request(f"{self.base}{path}", headers={"Accept": "application/json"})
        with self.opener.open(request) as response:
            return json.loads(response.read())

    def cookie(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def seed(server):
    client = Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "bench@example.org", "display_name": "Bench",
                                        "password": "a benchmark password"})
    legacy = client.post("/api/v1/legacies", {"name": "Benchmark family", "born": "1900"})["id"]
    story_ids = []
    started = time.monotonic()
    for i in range(STORIES):
        visibility = "public" if i % 3 == 0 else "members"
        story = client.post("/api/v1/stories", {"legacy_id": legacy, "title": f"Story {i}", "body": words(800, i),
                                                "tags": [f"decade-{1900 + (i % 12) * 10}"], "visibility": visibility,
                                                "status": "published"})
        story_ids.append(story["id"])
    seconds = time.monotonic() - started
    return client, legacy, story_ids, round(STORIES / seconds, 1)


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


def events_caught_up(server):
    """Whether every event consumer has seen every event (consumer lag 0 on /metrics)."""
    return all(v == 0 for v in metric_values(server.base, "heirloom_event_consumer_lag"))


def settled(server, seconds=SETTLE_SECONDS):
    """Waits until every event consumer has caught up (the search index holds every seeded
    story) and the process has gone quiet (under 5% of a core for a second: the index's
    background merges are done too); the seconds that took, or None when it did not
    within `seconds`."""
    started = time.monotonic()

    def quiet():
        before = server.cpu_seconds()
        time.sleep(1)
        return server.cpu_seconds() - before < 0.05

    if not wait_until(lambda: events_caught_up(server), seconds):
        return None
    if not wait_until(quiet, seconds - (time.monotonic() - started)):
        return None
    return round(time.monotonic() - started, 1)


def wrk(server, connections, script, path, env):
    threads = max(1, min(connections, 2))
    cpu_before = server.cpu_seconds()
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}", "--timeout", "10s",
                             "-s", str(WRK_DIR / script), f"{server.base}{path}"],
                            env=dict(os.environ, BENCH_WRK_DIR=str(WRK_DIR), **env),
                            capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - cpu_before
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    seconds = figures["duration_us"] / 1e6
    return {
        "connections": connections,
        "requests_per_s": round(figures["requests"] / seconds, 1),
        "p50_ms": figures["p50_us"] / 1000, "p95_ms": figures["p95_us"] / 1000, "p99_ms": figures["p99_us"] / 1000,
        "errors": figures["errors"],
        "cpu_s_per_1000": round(cpu / max(figures["requests"], 1) * 1000, 3),
        "peak_rss_mib": round(server.rss_kib("VmHWM") / 1024, 1),
    }


def run_engine(name, binary, site, database_url=None, only_create=False):
    """Seeds, restarts and measures one engine; `only_create` (BENCH_ONLY=create) measures
    the story-create rows alone (no pages, no first load)."""
    server = Server(binary, site, database_url)
    try:
        cold_start_empty = server.cold_start_ms
        idle_rss = round(server.rss_kib("VmRSS") / 1024, 1)
        # How much of it is the process's own memory; the rest is the executable's code
        # pages, clean and file-backed, which the kernel may drop and read again.
        idle_rss_anon = round(server.rss_kib("RssAnon") / 1024, 1)
        client, legacy, story_ids, seed_rate = seed(server)
        # Let the outbox and the search index catch up first, so the restart measures an
        # instance at rest with its stories, and the wrk rows below are not shared with
        # indexing left over from the seed.
        settled_s = settled(server)
        shutdown_seeded, cold_start_seeded = server.restart()
        idle_rss_seeded = round(server.rss_kib("VmRSS") / 1024, 1)
        idle_rss_anon_seeded = round(server.rss_kib("RssAnon") / 1024, 1)
        public_story, member_story = story_ids[0], story_ids[1]
        scenarios = {}
        cookie = {"BENCH_COOKIE": client.cookie()}
        for c in CONNECTIONS:
            if only_create:
                scenarios.setdefault(STORY_CREATE, []).append(
                    wrk(server, c, "create_story.lua", "/api/v1/stories",
                        dict(cookie, BENCH_LEGACY=legacy, BENCH_ORIGIN=server.base)))
                continue
            scenarios.setdefault(STORY_PAGES[0], []).append(
                wrk(server, c, "get_with_cookie.lua", f"/stories/{public_story}", {"BENCH_COOKIE": ""}))
            scenarios.setdefault(STORY_PAGES[1], []).append(
                wrk(server, c, "get_with_cookie.lua", f"/stories/{member_story}", cookie))
            scenarios.setdefault("legacy page (SSR, member)", []).append(
                wrk(server, c, "get_with_cookie.lua", f"/legacies/{legacy}", cookie))
            scenarios.setdefault("home page (SSR, member, with the next tip)", []).append(
                wrk(server, c, "get_with_cookie.lua", "/", cookie))
            scenarios.setdefault("REST story get", []).append(
                wrk(server, c, "get_with_cookie.lua", f"/api/v1/stories/{member_story}", cookie))
            scenarios.setdefault(STORY_CREATE, []).append(
                wrk(server, c, "create_story.lua", "/api/v1/stories",
                    dict(cookie, BENCH_LEGACY=legacy, BENCH_ORIGIN=server.base)))
        first_loads = {} if only_create else {
            "story page, signed out": first_load(f"{server.base}/stories/{public_story}"),
            "story page, member": first_load(f"{server.base}/stories/{member_story}", client.cookie())}
        # When a SQLite commit reaches the disk (docs/adr/0016); the server reads the same
        # variable from this environment.
        synchronous = None if database_url else os.environ.get("HEIRLOOM_SQLITE_SYNCHRONOUS", "full")
        return {"engine": name, "sqlite_synchronous": synchronous, "cold_start_ms": cold_start_empty, "cold_start_seeded_ms": cold_start_seeded,
                "idle_rss_mib": idle_rss, "idle_rss_seeded_mib": idle_rss_seeded, "idle_rss_anon_mib": idle_rss_anon,
                "idle_rss_anon_seeded_mib": idle_rss_anon_seeded, "seeded_stories": STORIES,
                "seed_creates_per_s": seed_rate, "seed_settled_s": settled_s, "shutdown_seeded_ms": shutdown_seeded,
                "scenarios": scenarios,
                "first_load": first_loads}
    finally:
        server.stop()


def leptos_build_env():
    """The environment for a cargo build that shares the release binary's artifacts.
    leptos reads LEPTOS_OUTPUT_NAME at compile time (`option_env!`) and cargo tracks it:
    building without cargo-leptos's value would recompile leptos and every crate above it,
    here and again on the next `cargo leptos build`."""
    projects = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["metadata"]["leptos"]
    return dict(os.environ, LEPTOS_OUTPUT_NAME=projects[0]["name"])


def example_binary(name):
    """Builds `server/examples/<name>.rs` (release) and returns the path of its binary."""
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "server", "--example", name],
                   cwd=ROOT, env=leptos_build_env(), check=True)
    metadata = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    return Path(json.loads(metadata)["target_directory"]) / "release" / "examples" / name


def bare_axum_reference():
    """The fixed 20 KB page of server/examples/bare_axum.rs under the same wrk script and
    connection counts as the story page: the ceiling for an HTTP response here."""
    reference = BareAxum(example_binary("bare_axum"))
    try:
        page_bytes = len(urllib.request.urlopen(f"{reference.base}/", timeout=5).read())
        idle_rss = round(reference.rss_kib("VmRSS") / 1024, 1)
        rows = [wrk(reference, c, "get_with_cookie.lua", "/", {"BENCH_COOKIE": ""}) for c in CONNECTIONS]
        return {"page_bytes": page_bytes, "cold_start_ms": reference.cold_start_ms, "idle_rss_mib": idle_rss,
                "rows": rows}
    finally:
        reference.stop()


def story_page_over_reference(engines, reference):
    """Story page p95 / bare axum p95, per engine, page and connection count."""
    reference_p95 = {r["connections"]: r["p95_ms"] for r in reference["rows"]}
    ratios = []
    for engine in engines:
        for page in STORY_PAGES:
            for r in engine["scenarios"].get(page, []):
                base = reference_p95.get(r["connections"])
                if base:
                    ratios.append({"engine": engine["engine"], "scenario": page, "connections": r["connections"],
                                   "story_p95_ms": r["p95_ms"], "reference_p95_ms": base,
                                   "ratio_p95": round(r["p95_ms"] / base, 1)})
    return ratios


def first_load(url, cookie=""):
    """What Chromium transfers for `url` on a first visit (bench/first_load.mjs)."""
    if not shutil.which("node"):
        return {"skipped": "node is not installed"}
    done = subprocess.run(["node", str(ROOT / "bench" / "first_load.mjs"), url],
                          env=dict(os.environ, BENCH_COOKIE=cookie), capture_output=True, text=True, timeout=180)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        # A browser problem should not throw away the rest of a long run: it is reported.
        return {"skipped": f"first_load.mjs failed: {(done.stderr.strip().splitlines() or ['no output'])[-1]}"}
    return json.loads(lines[-1])


def percentiles(values):
    values = sorted(values)
    at = lambda p: round(values[round((len(values) - 1) * p)], 1) if values else None
    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": round(values[-1], 1) if values else None}


def edit_to_searchable(client, story_ids):
    """Saves a story with a new, unique word (REST PUT, as the editor does) and polls the
    search API until that story is found by the word: the time from sending the save to
    the first search that finds it. One edit at a time, a little apart."""
    latencies, saves, misses = [], [], 0
    for story_id in story_ids[:SEARCH_EDITS]:
        story = client.get(f"/api/v1/stories/{story_id}")
        word = "zq" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        update = {"version": story["version"], "title": story["title"], "body": f"{story['body']}\n\n{word}",
                  "tags": story["tags"], "visibility": story["visibility"], "status": story["status"]}
        started = time.monotonic()
        client.put(f"/api/v1/stories/{story_id}", update)
        saves.append((time.monotonic() - started) * 1000)
        while True:
            hits = client.get(f"/api/v1/search?q={word}&limit=5")["hits"]
            if any(hit["id"] == story_id for hit in hits):
                latencies.append((time.monotonic() - started) * 1000)
                break
            if time.monotonic() - started > 30:
                misses += 1
                break
            time.sleep(0.001)
        time.sleep(0.05)
    return {"edits": len(latencies) + misses, "not_found_within_30_s": misses,
            "save_p50_ms": percentiles(saves)["p50_ms"], **percentiles(latencies)}


def search_bench(binary, site):
    """A generated archive of BENCH_SEARCH_STORIES stories (SQLite), its index, the same
    queries raw (in-process) and through HTTP as a signed-in member, and edit → searchable."""
    kept = os.environ.get("BENCH_SEARCH_DATA")
    data = kept or tempfile.mkdtemp(prefix="heirloom-bench-search-")
    try:
        if kept:
            os.makedirs(kept, exist_ok=True)
        # Progress on stderr goes to the terminal; the figures come as JSON on stdout.
        output = subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "backend", "--example",
                                 "search_bench", "--", data, str(SEARCH_STORIES)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout
        archive = json.loads(output.strip().splitlines()[-1])
        server = Server(binary, site, data=data)
        try:
            idle_rss = round(server.rss_kib("VmRSS") / 1024, 1)
            client = Client(server.base)
            client.post("/api/v1/auth/signin", {"email": archive["reader"]["email"],
                                                "password": archive["reader"]["password"]})
            cookie = client.cookie()
            scenarios = {}
            for c in CONNECTIONS:
                for name, key in [(TYPEAHEAD, "typeahead_file"), ("full query (GET /api/v1/search)", "full_file")]:
                    scenarios.setdefault(name, []).append(
                        wrk(server, c, "search_paths.lua", "/", {"BENCH_COOKIE": cookie,
                                                                 "BENCH_PATHS_FILE": archive[key]}))
            edits = edit_to_searchable(client, archive["edit_targets"])
            cold_start_ms = server.cold_start_ms
        finally:
            server.stop()
    finally:
        if not kept:
            shutil.rmtree(data, ignore_errors=True)
    archive.pop("edit_targets")
    archive.pop("reader")
    raw = archive.pop("raw")
    overhead = {}
    for kind, name in [("typeahead", TYPEAHEAD), ("full", "full query (GET /api/v1/search)")]:
        http = scenarios[name][0]
        overhead[kind] = {"raw_p50_ms": raw[kind]["p50_ms"], "raw_p95_ms": raw[kind]["p95_ms"],
                          "http_connections": http["connections"],
                          "http_p50_ms": http["p50_ms"], "http_p95_ms": http["p95_ms"],
                          "ratio_p50": round(http["p50_ms"] / max(raw[kind]["p50_ms"], 0.001), 1),
                          "ratio_p95": round(http["p95_ms"] / max(raw[kind]["p95_ms"], 0.001), 1)}
    return {"engine": "SQLite", "archive": archive, "raw": raw, "cold_start_ms": cold_start_ms,
            "idle_rss_mib": idle_rss, "scenarios": scenarios, "http_over_raw": overhead,
            "edit_to_searchable": edits}


def events_bench(database_url):
    """Outbox → dispatcher → no-op consumer (and JetStream when NATS answers), in-process."""
    nats = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")
    try:
        import socket
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
    except OSError:
        nats = ""
    count = os.environ.get("BENCH_EVENTS", "20000")
    done = subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "backend", "--example", "events_bench", "--",
                           database_url, count, nats], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        # Recorded, not raised: one failed section must not cost the run's other figures.
        return {"error": f"events_bench exited with {done.returncode}: " + " | ".join(done.stderr.strip().splitlines()[-5:])}
    return json.loads(done.stdout.strip().splitlines()[-1])


def asset_sizes(site):
    """Raw and gzip sizes of what browsers download: the islands' WASM and JS glue, the
    CSS, and the editor bundle that only editing pages import."""
    import gzip
    sizes = {}
    for name, relative in [("islands WASM", "pkg/heirloom.wasm"), ("islands JS glue", "pkg/heirloom.js"),
                           ("CSS", "pkg/heirloom.css"), ("editor bundle (edit pages only)", "editor/editor.js")]:
        path = Path(site) / relative
        if path.is_file():
            data = path.read_bytes()
            sizes[name] = {"raw_kib": round(len(data) / 1024, 1),
                           "gzip_kib": round(len(gzip.compress(data, compresslevel=9)) / 1024, 1)}
    return sizes


def postgres_database():
    """A database URL and, when this run created it, its name to drop afterwards
    (none with BENCH_POSTGRES=0: SQLite only)."""
    if os.environ.get("BENCH_POSTGRES") == "0":
        return None, None
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"], None
    if shutil.which("psql") and subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
        name = f"heirloom_bench_{uuid.uuid4().hex[:8]}"
        psql(f"CREATE DATABASE {name}")
        return f"postgres://postgres@127.0.0.1:5432/{name}", name
    return None, None


def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql, "postgres"], check=True)


def machine():
    return {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg(), "kernel": platform.release(),
            "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                         if l.startswith("model name")), "unknown")}


def markdown(result):
    lines = [f"# Benchmark {result['started']}", "",
             f"Machine: {result['machine']['cores']} cores, {result['machine']['cpu']}, "
             f"load average at start {', '.join(f'{x:.2f}' for x in result['machine']['load_average_at_start'])}"
             + (f", at end {', '.join(f'{x:.2f}' for x in result['machine']['load_average_at_end'])}"
                if "load_average_at_end" in result["machine"] else "") + ". "
             f"wrk for {DURATION} per row. Ratios between rows and runs on one machine are comparable; "
             "absolute times across machines are not.", ""]
    for engine in result["engines"]:
        settled = (f"events, search index and its merges done {engine['seed_settled_s']} s after the last create"
                   if engine["seed_settled_s"] is not None
                   else f"events and search index NOT settled within {SETTLE_SECONDS} s")
        synchronous = (f" (`sqlite_synchronous = {engine['sqlite_synchronous']}`)"
                       if engine.get("sqlite_synchronous") else "")
        lines += [f"## {engine['engine']}{synchronous}", "",
                  f"Cold start (launch → 200 on /readyz): {engine['cold_start_ms']} ms on an empty database, "
                  f"{engine['cold_start_seeded_ms']} ms restarted on the seeded one (graceful shutdown before it "
                  f"{engine['shutdown_seeded_ms']} ms) · idle RSS "
                  f"{engine['idle_rss_mib']} MiB empty, {engine['idle_rss_seeded_mib']} MiB seeded (anonymous memory "
                  f"{engine.get('idle_rss_anon_mib')} and {engine.get('idle_rss_anon_seeded_mib')} MiB; the rest is "
                  f"the executable's code pages) · seeded "
                  f"{engine['seeded_stories']} stories of ~800 words at {engine['seed_creates_per_s']} creates/s "
                  f"(one client; {settled}). The rows run on the restarted server.", ""]
        lines += wrk_table(engine["scenarios"]) + [""]
        if engine["first_load"]:
            lines += first_load_markdown(engine["first_load"])
    if result.get("reference"):
        lines += reference_markdown(result["reference"])
    if result.get("assets"):
        lines += ["## Downloaded assets", "", "| asset | raw KiB | gzip KiB |", "| --- | --- | --- |"]
        lines += [f"| {name} | {a['raw_kib']} | {a['gzip_kib']} |" for name, a in result["assets"].items()]
        lines.append("")
    if result.get("events"):
        lines += ["## Events (outbox → dispatcher → no-op consumer, in-process)", "",
                  "| engine | events | appends/s (8 writers, 1 tx each) | embedded drain events/s | live commit→handled p50 / p95 ms "
                  "| call submit→succeeded p50 / p95 ms | JetStream publish/s | JetStream consume/s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for engine, e in result["events"].items():
            if "error" in e:
                lines.append(f"| {engine} | failed: {e['error']} |")
                continue
            lines.append(f"| {engine} | {e['events']} | {e['append_per_s']} | {e['embedded_drain_per_s']} | "
                         f"{e['embedded_live_commit_to_handled_p50_ms']} / {e['embedded_live_commit_to_handled_p95_ms']} | "
                         f"{e['call_submit_to_succeeded_p50_ms']} / {e['call_submit_to_succeeded_p95_ms']} | "
                         f"{e.get('jetstream_publish_per_s', '—')} | {e.get('jetstream_consume_per_s', '—')} |")
        lines.append("")
    if result.get("search"):
        lines += search_markdown(result["search"])
    return "\n".join(lines)


def wrk_table(scenarios):
    """The wrk rows of `scenarios` (name → rows) as a Markdown table."""
    lines = ["| scenario | conn | req/s | p50 ms | p95 ms | p99 ms | errors | CPU s / 1000 req | peak RSS MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, rows in scenarios.items():
        for r in rows:
            lines.append(f"| {name} | {r['connections']} | {r['requests_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
                         f"{r['p99_ms']} | {r['errors']} | {r['cpu_s_per_1000']} | {r['peak_rss_mib']} |")
    return lines


def kib(n):
    return round(n / 1024, 1)


FIRST_LOAD_TYPES = ["Document", "Script", "WASM", "Fetch", "Stylesheet", "Image", "Other"]


def first_load_markdown(first_loads):
    lines = ["First load in Chromium (fresh context, empty cache; bytes as DevTools reports them: transferred "
             "= on the wire with headers, decoded = bodies after decompression):", "",
             "| page | document status | hydrated | requests | KiB transferred | KiB decoded | "
             + " | ".join(f"{t} KiB" for t in FIRST_LOAD_TYPES) + " | content encodings |",
             "| --- " * (6 + len(FIRST_LOAD_TYPES) + 1) + "|"]
    for page, f in first_loads.items():
        if "skipped" in f:
            lines.append(f"| {page} | skipped: {f['skipped']} |" + " |" * (5 + len(FIRST_LOAD_TYPES)))
            continue
        by_type = [f"{kib(f['by_type'][t]['encoded_bytes'])}" if t in f["by_type"] else "—" for t in FIRST_LOAD_TYPES]
        encodings = ", ".join(f"{name} ×{n}" for name, n in f["content_encodings"].items())
        lines.append(f"| {page} | {f['document_status']} | {'yes' if f['hydrated'] else 'no'} | {f['total']['requests']} | "
                     f"{kib(f['total']['encoded_bytes'])} | {kib(f['total']['decoded_bytes'])} | "
                     + " | ".join(by_type) + f" | {encodings} |")
    return lines + [""]


def reference_markdown(reference):
    lines = ["## Reference: bare axum, fixed 20 KB page", "",
             f"`server/examples/bare_axum.rs`: one axum route answering a {reference['page_bytes']}-byte HTML page "
             f"built at startup (multi-threaded tokio, no middleware), same wrk script and connections as the story "
             f"page · cold start {reference['cold_start_ms']} ms · idle RSS {reference['idle_rss_mib']} MiB.", ""]
    lines += wrk_table({REFERENCE: reference["rows"]})
    if reference.get("story_page_over_reference"):
        lines += ["", "Story page p95 over the reference's p95 at the same connection count:", "",
                  "| engine | page | conn | story page p95 ms | bare axum p95 ms | ratio |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['engine']} | {r['scenario']} | {r['connections']} | {r['story_p95_ms']} | "
                  f"{r['reference_p95_ms']} | {r['ratio_p95']}× |" for r in reference["story_page_over_reference"]]
    return lines + [""]


def targets(result):
    """(target, measured, met) for each target of the bench issue this run has data for."""
    rows = []

    def check(target, value, unit, met):
        rows.append((target, f"{value} {unit}", met))

    for engine in result["engines"]:
        name = engine["engine"]
        for page in STORY_PAGES:
            for r in engine["scenarios"].get(page, []):
                if r["connections"] == 64:
                    check(f"story page p95 < 10 ms at 64 connections ({name}, {page})", r["p95_ms"], "ms",
                          r["p95_ms"] < 10)
        for r in engine["scenarios"].get(STORY_CREATE, []):
            check(f"story create p95 < 25 ms ({name}, {r['connections']} conn)", r["p95_ms"], "ms", r["p95_ms"] < 25)
    search = result.get("search")
    if search:
        for r in search["scenarios"][TYPEAHEAD]:
            check(f"typeahead p95 < 15 ms on 100k stories ({search['engine']}, {search['archive']['stories']} "
                  f"stories, {r['connections']} conn)", r["p95_ms"], "ms", r["p95_ms"] < 15)
    # bench/people.py checks its own: the import time and the relationship and tree p95.
    rows += [(t["target"], t["measured"], t["met"]) for t in result.get("people", {}).get("targets", [])]
    for engine in result["engines"]:
        name = engine["engine"]
        check(f"cold start < 1 s ({name}, empty database)", engine["cold_start_ms"], "ms",
              engine["cold_start_ms"] < 1000)
        check(f"cold start < 1 s ({name}, {engine['seeded_stories']} stories)", engine["cold_start_seeded_ms"], "ms",
              engine["cold_start_seeded_ms"] < 1000)
        check(f"idle RSS < 40 MiB ({name}, empty database)", engine["idle_rss_mib"], "MiB", engine["idle_rss_mib"] < 40)
        check(f"idle RSS < 40 MiB ({name}, {engine['seeded_stories']} stories)", engine["idle_rss_seeded_mib"], "MiB",
              engine["idle_rss_seeded_mib"] < 40)
    wasm = result.get("assets", {}).get("islands WASM")
    if wasm:
        check("initial WASM ≤ 250 KiB gzip (islands WASM, gzip -9 of the file)", wasm["gzip_kib"], "KiB gzip",
              wasm["gzip_kib"] <= 250)
    for engine in result["engines"]:
        loaded = engine["first_load"].get("story page, signed out", {}).get("by_type", {}).get("WASM")
        if loaded:
            transferred = kib(loaded["encoded_bytes"])
            check(f"initial WASM ≤ 250 KiB gzip (as Chromium transferred it, {engine['engine']}, story page)",
                  transferred, "KiB", transferred <= 250)
    return rows


def targets_markdown(result):
    rows = targets(result)
    if not rows:
        return ""
    lines = ["", "## Targets (bench issue)", "", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {target} | {measured} | {'met' if met else 'not met'} |" for target, measured, met in rows]
    return "\n".join(lines)


def search_markdown(search):
    a, raw, edits = search["archive"], search["raw"], search["edit_to_searchable"]
    lines = [f"## Search ({search['engine']}, {a['stories']} stories)", "",
             f"Archive: {a['stories']} stories of ~{a['words_per_story']:.0f} words (2% Chinese/Japanese) in "
             f"{a['legacies']} legacies, {a['accounts']} accounts, {a['memberships']} memberships; "
             f"{a['published_public_stories']} published public and {a['published_members_stories']} published "
             f"members-only stories, the rest private or drafts. Generated through the stories service in "
             f"{a['generate_s']} s ({a['story_creates_per_s']} creates/s with revision + outbox) · index built "
             f"(`heirloom reindex` code) in {a['index_build_s']} s, merged in {a['index_merge_s']} s "
             f"({a['index_segments_built']} → {a['index_segments_merged']} segments) · index {a['index_mib']} MiB, "
             f"database {a['database_mib']} MiB · cold start with this index {search['cold_start_ms']} ms, "
             f"idle RSS {search['idle_rss_mib']} MiB.", "",
             "Queries are the reader's (a member of 12 legacies in every role), so permission filtering is real: "
             f"{raw['typeahead_queries']} typeahead texts (3-6 letters of a word, sometimes after a first word) and "
             f"{raw['full_queries']} full searches (1-3 words, names, quoted phrases, CJK; a third with a tag, "
             "legacy, type or date filter or newest-first), round-robin. wrk rows (the typeahead target is in the "
             "targets table at the end):", ""]
    lines += wrk_table(search["scenarios"])
    lines += ["", "The same queries on the index in-process (`search::query`, one thread, no HTTP, session or "
              "JSON) against HTTP at one connection:", "",
              "| query | raw p50 ms | raw p95 ms | raw p99 ms | HTTP p50 ms | HTTP p95 ms | HTTP / raw p50 | HTTP / raw p95 "
              "| no results |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for kind in ("typeahead", "full"):
        o = search["http_over_raw"][kind]
        lines.append(f"| {kind} | {o['raw_p50_ms']} | {o['raw_p95_ms']} | {raw[kind]['p99_ms']} | {o['http_p50_ms']} | "
                     f"{o['http_p95_ms']} | {o['ratio_p50']}× | {o['ratio_p95']}× | "
                     f"{raw[kind + '_empty_share'] * 100:.0f}% |")
    lines += ["", f"Full searches match {raw['full_mean_total_hits']:.0f} stories on average (facets count them all).",
              "", f"Edit → searchable (REST PUT of a story with a new word, then the search API polled until it "
              f"finds the story; {edits['edits']} edits one at a time): p50 {edits['p50_ms']} ms, p95 "
              f"{edits['p95_ms']} ms, max {edits['max_ms']} ms (the save alone: p50 {edits['save_p50_ms']} ms; "
              f"not found within 30 s: {edits['not_found_within_30_s']}).", "",
              "Example requests: " + ", ".join(f"`{p}`" for p in a["typeahead_examples"][:3] + a["full_examples"][:3]),
              ""]
    return lines


def main():
    binary = os.environ.get("BENCH_BIN") or sys.exit("bench: set BENCH_BIN (make bench does)")
    site = os.environ.get("LEPTOS_SITE_ROOT") or sys.exit("bench: set LEPTOS_SITE_ROOT (make bench does)")
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), "engines": []}
    result["assets"] = asset_sizes(site)
    only = os.environ.get("BENCH_ONLY", "")
    if only in ("", "http"):
        result["engines"].append(run_engine("SQLite", binary, site))
        result["reference"] = bare_axum_reference()
    if only == "create":
        result["engines"].append(run_engine("SQLite", binary, site, only_create=True))
    events_dir = tempfile.mkdtemp(prefix="heirloom-bench-events-")
    if only in ("", "events"):
        result["events"] = {"SQLite": events_bench(f"sqlite://{events_dir}/events.db")}
    shutil.rmtree(events_dir, ignore_errors=True)
    if only in ("", "search"):
        result["search"] = search_bench(binary, site)
    if only in ("", "media"):
        import media  # bench/media.py: uploads and thumbnails
        result["media"] = {"upload": media.upload_bench(sys.modules[__name__], binary, site),
                           "thumbnails": media.thumbnail_bench()}
    if only in ("", "tips"):
        import tips  # bench/tips.py: the recommender's learning and latency
        result["tips"] = tips.tips_bench(sys.modules[__name__], binary, site)
    if only in ("", "people"):
        import people  # bench/people.py: a generated family graph, its GEDCOM import, relationships and trees
        result["people"] = people.people_bench(sys.modules[__name__], binary, site)
    if only in ("", "live"):
        import live  # bench/live.py: SSE fan-out to 2000 streams, the feed over 100,000 rows
        result["live"] = {"sse": live.sse_bench(sys.modules[__name__], binary, site),
                          "feed": live.feed_bench(sys.modules[__name__], binary, site)}
    if only in ("", "email"):
        import email_bench  # bench/email_bench.py: invitation emails through maildev
        result["email"] = email_bench.email_bench(sys.modules[__name__], binary, site)
    # Each PostgreSQL section on a database of its own: the events bench counts the
    # outbox, which the HTTP section's seeding has filled.
    for section in ("http", "events"):
        if only not in ("", section):
            continue
        pg, created = postgres_database()
        if not pg:
            print(f"bench: no PostgreSQL reachable; the {section} section is SQLite only")
            continue
        try:
            if section == "http":
                result["engines"].append(run_engine("PostgreSQL", binary, site, pg))
            else:
                result.setdefault("events", {})["PostgreSQL"] = events_bench(pg)
        finally:
            if created:
                psql(f"DROP DATABASE IF EXISTS {created} WITH (FORCE)")
    if "reference" in result:
        result["reference"]["story_page_over_reference"] = story_page_over_reference(result["engines"],
                                                                                     result["reference"])
    # Runs are long and the machine may be shared: how busy it was at the end too.
    result["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / result["started"].replace(":", "")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    if "media" in result:
        import media
        report += "\n" + media.media_markdown(result["media"])
    if "tips" in result:
        import tips
        report += "\n" + tips.tips_markdown(result["tips"])
    if "people" in result:
        import people
        report += "\n" + people.people_markdown(result["people"], sys.modules[__name__])
    if "live" in result:
        import live
        report += "\n" + live.live_markdown(result["live"])
    if "email" in result:
        import email_bench
        report += "\n" + email_bench.email_markdown(result["email"])
    report += targets_markdown(result)
    stem.with_suffix(".md").write_text(report + "\n")
    print(report)
    print(f"bench: wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
