"""Live-update and feed scenarios for bench/run.py (`BENCH_ONLY=live`), on SQLite.

1. SSE fan-out: one member with a legacy and a members-only story of another member's
   (the writer's: comments on it notify nobody). `server/examples/sse_clients.rs`
   (release) opens `BENCH_LIVE_CLIENTS` (2000) streams on `GET /api/v1/stream` with the
   member's session, all on one thread, while a thread of its own posts the writer's
   comments on the story at `BENCH_LIVE_RATE` (50) a second for `BENCH_LIVE_SECONDS`
   (10) s. The delivery time is from the comment's POST being answered (the event is
   committed by then) to its message being read on a stream, over every stream and
   comment (p50/p95/p99, and how many deliveries of how many expected). The server's
   VmRSS before the streams, with them open, and its peak (`VmHWM`). (The streams were
   read by Python's asyncio before: 100,000 messages a second are more than it reads on
   one core, and its own backlog was most of what was measured.)
2. Feed: `BENCH_FEED_ROWS` (100000) activity rows (comments by four members, grouped
   hourly per person and story, so written with spread timestamps: the rows are inserted
   into the SQLite file directly while the server is stopped, as the projection would
   write them), then `GET /api/v1/feed` and the same with a cursor `BENCH_FEED_CURSOR_PAGES`
   deep, by wrk at 16 connections for `BENCH_DURATION`.

Targets (the issue's): RSS < 200 MiB with 2000 streams, delivery p95 < 100 ms at 50
events/s; the feed's p95 is reported.
"""

import json
import os
import resource
import sqlite3
import subprocess
import time
import urllib.parse
import uuid

CLIENTS = int(os.environ.get("BENCH_LIVE_CLIENTS", "2000"))
RATE = int(os.environ.get("BENCH_LIVE_RATE", "50"))
SECONDS = int(os.environ.get("BENCH_LIVE_SECONDS", "10"))
FEED_ROWS = int(os.environ.get("BENCH_FEED_ROWS", "100000"))
RSS_TARGET_MIB = 200
DELIVERY_P95_TARGET_MS = 100


def _member_with_legacy(run, server, name):
    """A member signed up, with a legacy called `name`: (client, legacy id)."""
    client = run.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "bench@example.org", "display_name": "Bench",
                                        "password": "a benchmark password"})
    return client, client.post("/api/v1/legacies", {"name": name})["id"]


def sse_bench(run, binary, site):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, CLIENTS * 2 + 1024)), hard))
    clients_binary = run.example_binary("sse_clients")
    server = run.Server(binary, site)
    try:
        reader, legacy = _member_with_legacy(run, server, "Live family")
        writer = run.Client(server.base)
        writer.post("/api/v1/auth/signup", {"email": "writer@example.org", "display_name": "Writer",
                                            "password": "a benchmark password"})
        token = reader.post(f"/api/v1/legacies/{legacy}/invitations", {"role": "editor"})["token"]
        writer.post(f"/api/v1/invitations/{token}/accept", {})
        # The writer's own story: comments on it concern no one else (no notifications),
        # so each stream gets the comment's one message, as in the runs before them.
        story = writer.post("/api/v1/stories", {"legacy_id": legacy, "title": "Live", "body": "Words.",
                                                "visibility": "members", "status": "published"})["id"]
        result = {"clients": CLIENTS, "rate_per_s": RATE, "seconds": SECONDS,
                  "rss_before_mib": round(server.rss_kib("VmRSS") / 1024, 1)}
        env = dict(os.environ, BENCH_READER_COOKIE=reader.cookie(), BENCH_WRITER_COOKIE=writer.cookie(),
                   BENCH_STORY=story)
        started = time.monotonic()
        with subprocess.Popen([str(clients_binary), server.base, str(CLIENTS), str(RATE),
                               str(SECONDS)], env=env, stdout=subprocess.PIPE, text=True) as clients:
            if clients.stdout.readline().strip() != "streams open":
                raise RuntimeError("sse_clients could not open its streams")
            result["open_all_s"] = round(time.monotonic() - started, 1)
            result["rss_streams_open_mib"] = round(server.rss_kib("VmRSS") / 1024, 1)
            measured = json.loads(clients.stdout.read().strip().splitlines()[-1])
        if clients.returncode != 0:
            raise RuntimeError(f"sse_clients failed ({clients.returncode})")
        result.update(measured)
        result["peak_rss_mib"] = round(server.rss_kib("VmHWM") / 1024, 1)
        return result
    finally:
        server.stop()


def feed_bench(run, binary, site):
    """The feed over 100,000 activity rows (see the module docstring)."""
    server = run.Server(binary, site)
    try:
        client, legacy = _member_with_legacy(run, server, "Feed family")
        stories = [client.post("/api/v1/stories", {"legacy_id": legacy, "title": f"Story {i}", "body": "Words.",
                                                   "visibility": "members" if i % 2 else "private",
                                                   "status": "published"})["id"] for i in range(50)]
        me = client.get("/api/v1/me")["id"]
        server.terminate()
        db = sqlite3.connect(os.path.join(server.data, "heirloom.db"))
        now = int(time.time() * 1000)
        rows = [(str(uuid.uuid4()), legacy, "commented", f"commented:{me}:{stories[i % 50]}:{i}", me, stories[i % 50],
                 now - i * 60_000, now - i * 60_000) for i in range(FEED_ROWS)]
        db.executemany("INSERT INTO activities (id, legacy_id, kind, group_key, actor_id, story_id, count, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)", rows)
        db.commit()
        db.close()
        server.cold_start_ms = server.launch(server.command, server.env, "/readyz")
        first = client.get("/api/v1/feed")
        deep = first
        for _ in range(int(os.environ.get("BENCH_FEED_CURSOR_PAGES", "50"))):
            deep = client.get(f"/api/v1/feed?cursor={urllib.parse.quote(deep['next_cursor'])}")
        result = {"rows": FEED_ROWS, "first_page_items": len(first["items"])}
        for name, path in (("first page", "/api/v1/feed"),
                           ("deep page", f"/api/v1/feed?cursor={urllib.parse.quote(deep['next_cursor'])}")):
            result[name] = run.wrk(server, 16, "get_with_cookie.lua", path, {"BENCH_COOKIE": client.cookie()})
        return result
    finally:
        server.stop()


def live_markdown(result):
    lines = ["## Live updates and feed", ""]
    sse = result.get("sse")
    if sse:
        d = sse["delivery_ms"]
        lines += [f"SSE: {sse['clients']} streams on one process, comments at {sse['rate_per_s']}/s for "
                  f"{sse['seconds']} s (posted in {sse.get('writer_seconds')} s): delivery p50 {d['p50']} ms, p95 {d['p95']} ms, p99 {d['p99']} ms "
                  f"({sse['deliveries']} of {sse['expected_deliveries']} deliveries, "
                  f"{sse.get('streams_closed_by_server')} streams closed by the server); RSS before "
                  f"{sse['rss_before_mib']} MiB, with the streams open {sse['rss_streams_open_mib']} MiB, peak "
                  f"{sse['peak_rss_mib']} MiB (targets: RSS < {RSS_TARGET_MIB} MiB, p95 < {DELIVERY_P95_TARGET_MS} ms).",
                  ""]
    feed = result.get("feed")
    if feed:
        lines += [f"Feed over {feed['rows']} activity rows, 16 connections: " + ", ".join(
            f"{name} p95 {feed[name]['p95_ms']} ms ({feed[name]['requests_per_s']} req/s)"
            for name in ("first page", "deep page")), ""]
    return "\n".join(lines)
