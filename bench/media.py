"""Media scenarios for bench/run.py: upload throughput through Heirloom's upload API
(data folder and an S3 server, s3s-fs) against a plain file copy on the same disk, and
thumbnails per second (Heirloom's pipeline code) against libvips' `vipsthumbnail` on the
same photos.

An upload here is the whole flow a browser runs: ask for the upload, PUT every part
(`BENCH_UPLOAD_PARALLEL` at a time, 4 by default, each over its own keep-alive
connection), and complete it, which joins the parts and reads the object back to check
the SHA-256. The figure is file size / wall time of all of it.
"""

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

UPLOAD_MIB = int(os.environ.get("BENCH_UPLOAD_MIB", "256"))
PARALLEL = int(os.environ.get("BENCH_UPLOAD_PARALLEL", "4"))
THUMB_IMAGES = int(os.environ.get("BENCH_THUMB_IMAGES", "12"))


def random_file(directory, mib):
    """A file of random bytes (incompressible, like a video), and its SHA-256."""
    path = Path(directory) / "upload.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(mib):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


def plain_copy_mb_s(path):
    """The disk's own speed for the same bytes: copy and fsync, as the upload does."""
    target = path.with_suffix(".copy")
    started = time.monotonic()
    with open(path, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 8 * 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())
    seconds = time.monotonic() - started
    size = path.stat().st_size
    target.unlink()
    return round(size / 1e6 / seconds, 1)


def _put_parts(base, parts, path, cookie):
    """PUTs `parts` from `path`, several at a time; each worker keeps one connection."""
    queue = list(parts)
    lock = threading.Lock()
    failures = []

    def worker():
        connections = {}
        with open(path, "rb") as file:
            while True:
                with lock:
                    if not queue:
                        break
                    part = queue.pop()
                url = part["url"] if part["url"].startswith("http") else base + part["url"]
                parsed = urllib.parse.urlsplit(url)
                key = parsed.netloc
                if key not in connections:
                    connections[key] = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
                file.seek(part["offset"])
                body = file.read(part["size"])
                headers = {"Content-Length": str(len(body))}
                if url.startswith(base):
                    headers.update({"Origin": base, "Cookie": cookie})
                target = parsed.path + ("?" + parsed.query if parsed.query else "")
                connections[key].request("PUT", target, body=body, headers=headers)
                response = connections[key].getresponse()
                response.read()
                if response.status >= 300:
                    failures.append(f"part {part['number']}: HTTP {response.status}")
        for connection in connections.values():
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit("bench: upload failed: " + "; ".join(failures[:3]))


def upload_mb_s(client, legacy_id, path, sha256):
    """One upload through the API, end to end, in MB/s."""
    size = path.stat().st_size
    started = time.monotonic()
    ticket = client.post("/api/v1/uploads", {"legacy_id": legacy_id, "file_name": "bench.mp4", "size": size,
                                             "content_type": "video/mp4", "sha256": sha256})
    _put_parts(client.base, ticket["parts"], path, client.cookie())
    item = client.post(f"/api/v1/uploads/{ticket['media_id']}/complete", {})
    seconds = time.monotonic() - started
    if item.get("state") not in ("pending", "processing", "ready", "failed", "rejected"):
        raise SystemExit(f"bench: unexpected upload answer {item}")
    return round(size / 1e6 / seconds, 1), round(seconds, 2)


class S3Server:
    """s3s-fs on a fresh folder (signature-checking S3 protocol), for the S3 variant."""

    def __init__(self, port):
        binary = shutil.which("s3s-fs") or str(Path.home() / ".cargo/bin/s3s-fs")
        if not Path(binary).is_file():
            raise FileNotFoundError("s3s-fs")
        self.root = tempfile.mkdtemp(prefix="heirloom-bench-s3-")
        os.mkdir(Path(self.root) / "heirloom-bench")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), "--access-key", "BENCHAK",
                                         "--secret-key", "BENCHSK", self.root],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("bench: s3s-fs did not start")

    def env(self):
        return {"HEIRLOOM_S3_ENDPOINT": self.endpoint, "HEIRLOOM_S3_BUCKET": "heirloom-bench",
                "HEIRLOOM_S3_REGION": "us-east-1", "HEIRLOOM_S3_FORCE_PATH_STYLE": "true",
                "HEIRLOOM_S3_ACCESS_KEY_ID": "BENCHAK", "HEIRLOOM_S3_SECRET_ACCESS_KEY": "BENCHSK"}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def photos(directory, count):
    """`count` 12-megapixel JPEG photos (ffmpeg's test patterns with noise, which
    compress like real photos), made once per run."""
    paths = []
    for i in range(count):
        path = Path(directory) / f"photo-{i}.jpg"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=4000x3000:rate=1,noise=alls={10 + i}:allf=t",
                        "-frames:v", "1", "-q:v", "3", str(path)], check=True)
        paths.append(path)
    return paths


def vipsthumbnail_per_s(paths, widths, out_dir):
    """libvips making the same WebP sizes from the same photos, one process per photo
    (as a pipeline calling it would)."""
    started = time.monotonic()
    for path in paths:
        for width in widths:
            subprocess.run(["vipsthumbnail", str(path), "--size", str(width),
                            "-o", str(Path(out_dir) / f"{path.stem}-{width}.webp[Q=80]")], check=True)
    return round(len(paths) / (time.monotonic() - started), 2)


def thumbnail_bench():
    """Heirloom's thumbnails per second against vipsthumbnail, same photos, same sizes."""
    work = tempfile.mkdtemp(prefix="heirloom-bench-thumbs-")
    try:
        paths = photos(work, THUMB_IMAGES)
        command = ["cargo", "run", "--quiet", "--release", "-p", "backend", "--example", "thumbnail_bench", "--",
                   str(Path(work) / "ours")] + [str(p) for p in paths]
        ours = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        result = {"photos": len(paths), "megapixels": 12, "heirloom_photos_per_s": round(ours["photos_per_s"], 2)}
        if shutil.which("vipsthumbnail"):
            vips_dir = Path(work) / "vips"
            vips_dir.mkdir()
            result["vipsthumbnail_photos_per_s"] = vipsthumbnail_per_s(paths, [320, 960, 1920], vips_dir)
            result["ratio_heirloom_to_vips"] = round(result["heirloom_photos_per_s"]
                                                     / result["vipsthumbnail_photos_per_s"], 2)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def upload_bench(run, binary, site):
    """Upload MB/s through the API, data folder and s3s-fs, against a plain copy."""
    work = tempfile.mkdtemp(prefix="heirloom-bench-upload-")
    result = {"file_mib": UPLOAD_MIB, "parallel_parts": PARALLEL}
    try:
        path, sha = random_file(work, UPLOAD_MIB)
        result["plain_copy_mb_s"] = plain_copy_mb_s(path)
        quota = {"HEIRLOOM_MEDIA_USER_QUOTA_BYTES": str(64 * 1024 ** 3)}

        def upload_to_server_with(env):
            server = run.Server(binary, site, env=env)
            try:
                client, legacy = _member(run, server)
                return upload_mb_s(client, legacy, path, sha)
            finally:
                server.stop()

        result["data_folder_mb_s"], result["data_folder_seconds"] = upload_to_server_with(quota)
        try:
            s3 = S3Server(int(os.environ.get("BENCH_S3_PORT", "3128")))
        except FileNotFoundError:
            result["s3"] = "skipped: s3s-fs is not installed"
            return result
        try:
            result["s3s_fs_mb_s"], result["s3s_fs_seconds"] = upload_to_server_with({**quota, **s3.env()})
        finally:
            s3.stop()
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _member(run, server):
    client = run.Client(server.base)
    client.post("/api/v1/auth/signup", {"email": "bench@example.org", "display_name": "Bench",
                                        "password": "a benchmark password"})
    legacy = client.post("/api/v1/legacies", {"name": "Upload family"})["id"]
    return client, legacy


def media_markdown(media):
    up, th = media.get("upload", {}), media.get("thumbnails", {})
    lines = ["", "## Media", "", "| figure | value |", "| --- | --- |"]
    for key in ("file_mib", "parallel_parts", "plain_copy_mb_s", "data_folder_mb_s", "s3s_fs_mb_s", "s3"):
        if key in up:
            lines.append(f"| upload {key} | {up[key]} |")
    for key in ("photos", "heirloom_photos_per_s", "vipsthumbnail_photos_per_s", "ratio_heirloom_to_vips"):
        if key in th:
            lines.append(f"| thumbnails {key} | {th[key]} |")
    return "\n".join(lines)
