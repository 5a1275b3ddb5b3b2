"""Email throughput for bench/run.py (`BENCH_ONLY=email`), on SQLite, against maildev.
(Not `email.py`: that name would hide the standard library's `email` package.)

The server runs with `smtp_url` pointing at npm maildev (a real SMTP server, started
here on free ports). One owner invites `BENCH_EMAILS` (500) addresses by email from 8
threads (each invitation queues one email in its transaction; the `mailer` consumer
sends each once); the run ends when maildev holds them all. Reported: how long queuing
took, how long until the last email arrived, and emails a second end to end.
"""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

EMAILS = int(os.environ.get("BENCH_EMAILS", "500"))
THREADS = 8


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _arrived(web_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/email", timeout=30) as response:
        return len(json.load(response))


def email_bench(run, binary, site):
    maildev_bin = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "maildev"
    if not maildev_bin.exists():
        return {"skipped": f"{maildev_bin} is missing (scripts/tools.sh installs it)"}
    smtp_port, web_port = _free_port(), _free_port()
    maildev = subprocess.Popen([str(maildev_bin), "--ip", "127.0.0.1", "--smtp", str(smtp_port), "--web",
                                str(web_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        for _ in range(200):
            try:
                _arrived(web_port)
                break
            except OSError:
                time.sleep(0.05)
        server = run.Server(binary, site, env={"HEIRLOOM_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                                               "HEIRLOOM_EMAIL_FROM": "Heirloom <bench@example.org>"})
        owner = run.Client(server.base)
        owner.post("/api/v1/auth/signup", {"email": "owner@example.org", "display_name": "Owner",
                                           "password": "a benchmark password"})
        legacy = owner.post("/api/v1/legacies", {"name": "Mail family"})["id"]
        per_thread = EMAILS // THREADS

        def invite(n):
            for i in range(per_thread):
                owner.post(f"/api/v1/legacies/{legacy}/invitations",
                           {"role": "viewer", "email": f"guest{n}-{i}@example.org"})

        started = time.monotonic()
        threads = [threading.Thread(target=invite, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        queued_s = time.monotonic() - started
        total = per_thread * THREADS
        arrived = 0
        deadline = started + 300
        while time.monotonic() < deadline:
            arrived = _arrived(web_port)
            if arrived >= total:
                break
            time.sleep(0.25)
        delivered_s = time.monotonic() - started
        return {"emails": total, "arrived": arrived, "queued_s": round(queued_s, 2),
                "delivered_s": round(delivered_s, 2), "emails_per_s": round(arrived / delivered_s, 1)}
    finally:
        if server:
            server.stop()
        maildev.terminate()
        maildev.wait()


def email_markdown(result):
    if "skipped" in result:
        return f"## Email\n\nSkipped: {result['skipped']}\n"
    return (f"## Email\n\n{result['emails']} invitation emails from 8 threads through maildev: queued in "
            f"{result['queued_s']} s, all arrived after {result['delivered_s']} s ({result['arrived']} arrived), "
            f"{result['emails_per_s']} emails/s end to end.\n")
