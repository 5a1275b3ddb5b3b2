"""Tips scenarios for bench/run.py: the recommender's learning offline, and the cost of
asking for a tip through HTTP.

1. Replay (backend/examples/tips_bench.rs, in-process, no database): a simulated
   population whose preferences differ by kind of tip (each person has a favourite kind,
   done 60-80% of the time, the others 5-20%) is shown `BENCH_TIPS_PER_USER` tips each by
   every policy, with the same seeds; the done-rate per bucket of ten tips is the curve.
   The learning policy (`thompson`) should climb well above `random`, which stays flat.
2. Latency: the release server, members with a legacy and a few drafts (so prompts,
   drafts and advice are all candidates), `POST /api/v1/recommend` `BENCH_TIPS_REQUESTS`
   times one after another from one member, then as many spread over
   `BENCH_TIPS_THREADS` members asking at once (one thread and one keep-alive connection
   each). Every `FEEDBACK_EVERY`-th tip gets `shown` then `done` (drafts) or `skipped`
   (the rest), so feedback events flow to the learning consumer while tips are asked for;
   its latency is reported too.
"""

import http.client
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("BENCH_TIPS_USERS", "200"))
TIPS_PER_USER = int(os.environ.get("BENCH_TIPS_PER_USER", "100"))
SEED = int(os.environ.get("BENCH_TIPS_SEED", "2024"))
REQUESTS = int(os.environ.get("BENCH_TIPS_REQUESTS", "300"))
THREADS = int(os.environ.get("BENCH_TIPS_THREADS", "8"))
DRAFTS = int(os.environ.get("BENCH_TIPS_DRAFTS", "5"))
FEEDBACK_EVERY = 5
CONTEXT = {"hour": 20, "weekday": 3, "device": "desktop"}


def replay():
    """The offline replay's figures (both curves, overall rates, last-bucket ratio)."""
    output = subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "backend", "--example", "tips_bench", "--",
                             str(USERS), str(TIPS_PER_USER), str(SEED)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _stats(values):
    """p50/p95/p99/max in ms of a list of ms."""
    values = sorted(values)
    at = lambda p: round(values[round((len(values) - 1) * p)], 2) if values else None
    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(values[-1], 2) if values else None}


class _Connection:
    """One member's keep-alive connection, timing each JSON POST."""

    def __init__(self, base, cookie):
        parsed = urllib.parse.urlsplit(base)
        self.base, self.cookie = base, cookie
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def post(self, path, body):
        """(status, parsed body or None, ms); status 0 when the connection failed."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Origin": self.base,
                   "Cookie": self.cookie, "Content-Length": str(len(data))}
        started = time.perf_counter()
        try:
            self.connection.request("POST", path, body=data, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return 0, None, (time.perf_counter() - started) * 1000
        ms = (time.perf_counter() - started) * 1000
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, ms

    def close(self):
        self.connection.close()


def _member(run_module, server, n):
    """A new member with a legacy and `DRAFTS` drafts in it; returns their cookie."""
    client = run_module.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": f"tips{n}@example.org", "display_name": f"Tips {n}",
                                        "password": "a benchmark password"})
    legacy = client.post("/api/v1/legacies", {"name": f"Tips family {n}"})["id"]
    for i in range(DRAFTS):
        client.post("/api/v1/stories", {"legacy_id": legacy, "title": f"Draft {i}",
                                        "body": "The summer we moved to the orchard, grandmother" if i % 2 else "",
                                        "status": "draft"})
    return client.cookie()


def _ask(connection, count, out):
    """`count` recommends on one connection, with feedback on every FEEDBACK_EVERY-th tip."""
    for i in range(count):
        status, tip, ms = connection.post("/api/v1/recommend", {"context": CONTEXT})
        if status != 200 or not tip or "id" not in tip:
            out["errors"].append(status)
            continue
        out["recommend_ms"].append(ms)
        out["kinds"][tip["kind"]] = out["kinds"].get(tip["kind"], 0) + 1
        if i % FEEDBACK_EVERY == FEEDBACK_EVERY - 1:
            for action in ("shown", "done" if tip["kind"] == "draft" else "skipped"):
                status, _, ms = connection.post(f"/api/v1/tips/{tip['id']}/feedback", {"action": action})
                if status == 200:
                    out["feedback_ms"].append(ms)
                else:
                    out["feedback_errors"].append(status)


def _round(name, connections, total):
    """`total` recommends spread over `connections`, all at once; its figures."""
    outs = [{"recommend_ms": [], "feedback_ms": [], "errors": [], "feedback_errors": [], "kinds": {}}
            for _ in connections]
    shares = [total // len(connections) + (1 if i < total % len(connections) else 0) for i in range(len(connections))]
    threads = [threading.Thread(target=_ask, args=(c, n, o)) for c, n, o in zip(connections, shares, outs)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    recommend = [ms for o in outs for ms in o["recommend_ms"]]
    feedback = [ms for o in outs for ms in o["feedback_ms"]]
    kinds = {}
    for o in outs:
        for kind, n in o["kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + n
    errors = [s for o in outs for s in o["errors"]]
    feedback_errors = [s for o in outs for s in o["feedback_errors"]]
    return {"name": name, "threads": len(connections), "requests": total, "ok": len(recommend),
            "errors": len(errors), "error_statuses": sorted(set(errors)),
            "recommends_per_s": round(len(recommend) / seconds, 1), **_stats(recommend),
            "feedback": {"posts": len(feedback), "errors": len(feedback_errors), **_stats(feedback)},
            "kinds": dict(sorted(kinds.items()))}


def _learned(data_dir, wait_s=15):
    """Feedback the learning consumer has counted (SQLite in the server's data folder),
    waiting up to `wait_s` for it to catch up; None when the database is not there."""
    path = Path(data_dir) / "heirloom.db"
    if not path.is_file():
        return None
    started = time.monotonic()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        while True:
            total, learned = db.execute("SELECT COUNT(*), COUNT(learned_at) FROM tip_feedback").fetchone()
            if learned >= total or time.monotonic() - started > wait_s:
                arms = db.execute("SELECT COUNT(*) FROM tip_arm_stats").fetchone()[0]
                return {"feedback": total, "learned": learned, "arm_stat_rows": arms,
                        "caught_up_s": round(time.monotonic() - started, 2)}
            time.sleep(0.1)
    finally:
        db.close()


def latency(run_module, binary, site, policy="thompson"):
    """Recommend latency through HTTP on a fresh release server running `policy`."""
    server = run_module.Server(binary, site, env={"HEIRLOOM_TIPS_POLICY": policy})
    try:
        cookies = [_member(run_module, server, n) for n in range(max(THREADS, 1))]
        # Warm up: the first requests open database connections and load the prompts.
        warm = _Connection(server.base, cookies[0])
        for _ in range(5):
            warm.post("/api/v1/recommend", {"context": CONTEXT})
        warm.close()
        cpu_before = server.cpu_seconds()
        one = [_Connection(server.base, cookies[0])]
        sequential = _round("sequential", one, REQUESTS)
        many = [_Connection(server.base, cookie) for cookie in cookies]
        concurrent = _round("concurrent", many, REQUESTS)
        cpu = server.cpu_seconds() - cpu_before
        for connection in one + many:
            connection.close()
        learning = _learned(server.data)
        return {"policy": policy, "drafts_per_member": DRAFTS, "feedback_every": FEEDBACK_EVERY, "context": CONTEXT,
                "sequential": sequential, "concurrent": concurrent, "learning": learning,
                "cpu_s_per_1000_recommends": round(cpu / max(sequential["ok"] + concurrent["ok"], 1) * 1000, 3),
                "peak_rss_mib": round(server.rss_kib("VmHWM") / 1024, 1)}
    finally:
        server.stop()


def tips_bench(run_module, binary, site):
    """The replay's curves and the recommend latency (see the module's docstring)."""
    return {"replay": replay(), "latency": latency(run_module, binary, site)}


def tips_markdown(result):
    """The `## Tips` section: both done-rate curves and the recommend latency."""
    lines = ["", "## Tips", ""]
    r = result.get("replay")
    if r:
        random, thompson = r["policies"]["random"], r["policies"]["thompson"]
        lines += [f"Offline replay (`backend::tips::simulate`, seed {r['seed']}): {r['users']} simulated users "
                  f"× {r['tips_per_user']} tips each; each user has a favourite kind of tip (done 60-80% of the "
                  "time, the others 5-20%, a little more in the evening). Done-rate per bucket of "
                  f"{r['bucket_size']} tips, averaged over users:", "",
                  "| tips | random | thompson |", "| --- | --- | --- |"]
        for a, b in zip(random["buckets"], thompson["buckets"]):
            lines.append(f"| {a['from']}-{a['to']} | {a['done_rate']:.3f} | {b['done_rate']:.3f} |")
        lines.append(f"| overall | {random['overall']:.3f} | {thompson['overall']:.3f} |")
        lines += ["", f"Last bucket: thompson / random = **{r['final_bucket_ratio_thompson_to_random']}×** "
                  f"(+{r['final_bucket_gain_thompson_minus_random']:.3f}); always offering each user's favourite "
                  f"kind would reach {r['best_possible_done_rate']:.3f}. Replay time: random "
                  f"{random['replay_ms']} ms, thompson {thompson['replay_ms']} ms "
                  f"({thompson['picks_per_s']:.0f} picks/s).", ""]
    lat = result.get("latency")
    if lat:
        lines += [f"`POST /api/v1/recommend` through HTTP (release server, SQLite, policy `{lat['policy']}`; "
                  f"members with a legacy and {lat['drafts_per_member']} drafts; every {lat['feedback_every']}th "
                  "tip gets `shown` + `done`/`skipped` feedback, so the learning consumer runs meanwhile; one "
                  "keep-alive connection per thread):", "",
                  "| run | threads | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms "
                  "| feedback p50 / p95 ms |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for key in ("sequential", "concurrent"):
            s = lat[key]
            f = s["feedback"]
            lines.append(f"| {key} | {s['threads']} | {s['requests']} | {s['errors']} | {s['recommends_per_s']} | "
                         f"{s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} | "
                         f"{f['p50_ms']} / {f['p95_ms']} |")
        kinds = ", ".join(f"{k} {n}" for k, n in lat["sequential"]["kinds"].items())
        learning = lat.get("learning")
        learned = (f" The learning consumer counted {learning['learned']} of {learning['feedback']} feedback "
                   f"events ({learning['caught_up_s']} s after the last request)." if learning else "")
        lines += ["", f"Server CPU {lat['cpu_s_per_1000_recommends']} s per 1000 recommends (feedback included), "
                  f"peak RSS {lat['peak_rss_mib']} MiB. Kinds recommended (sequential): {kinds}.{learned}", ""]
    return "\n".join(lines)
