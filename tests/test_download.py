"""The SVHN downloader against a real HTTP server on 127.0.0.1 serving a small real archive."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from train.svhn import archives as archives_mod
from train.svhn.__main__ import main
from train.svhn.archives import MARKER, Archive, extract
from train.svhn.download import DownloadError, download

ROOT = Path(__file__).resolve().parents[1]
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


class Server:
    """Serves `files` with Range support; `cut`, `ignore_range` and `corrupt` script its misbehaviour."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.ranges: list[str | None] = []  # the Range header of each request, None if absent
        self.statuses: list[int] = []
        self.cut: int | None = None  # close the connection after this many body bytes, on the next request
        self.ignore_range = False  # answer 200 with the whole file, as servers without Range support do
        self.corrupt = 0  # this many next responses carry flipped bytes (same length)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.handle(self)

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        data = self.files.get(h.path.lstrip("/"))
        rng = h.headers.get("Range")
        self.ranges.append(rng)
        if data is None:
            self.statuses.append(404)
            h.send_error(404)
            return
        if self.corrupt:
            self.corrupt -= 1
            data = bytes(b ^ 0xFF for b in data[:100]) + data[100:]
        start = 0
        if rng and not self.ignore_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.statuses.append(206)
        else:
            h.send_response(200)
            self.statuses.append(200)
        body = data[start:]
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if self.cut is not None:  # a dropped connection: fewer bytes than Content-Length promised
            body, self.cut = body[: self.cut], None
        h.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in PROXY_VARS:  # requests to 127.0.0.1 must not go to a proxy
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def tarball(svhn: Path, tmp_path_factory) -> tuple[bytes, Archive]:
    """A real test.tar.gz: test/1.png..3.png + digitStruct.mat from the shared samples."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("1.png", "2.png", "3.png", "digitStruct.mat"):
            tar.add(svhn / "format1_samples" / "test" / name, arcname=f"test/{name}")
    data = buf.getvalue()
    return data, Archive("test", "test.tar.gz", len(data), hashlib.md5(data).hexdigest())


@pytest.fixture
def server(tarball):
    srv = Server({"test.tar.gz": tarball[0]})
    yield srv
    srv.close()


def run(server: Server, archive: Archive, root: Path, **kw) -> list[Path]:
    return download(
        ["test"], root, base_url=server.url, archives={"test": archive}, progress=False, log=lambda s: None, **kw
    )


def assert_complete(root: Path, archive: Archive, svhn: Path) -> None:
    folder = root / "test"
    assert (folder / MARKER).read_text().strip() == archive.md5
    for name in ("1.png", "digitStruct.mat"):
        assert (folder / name).read_bytes() == (svhn / "format1_samples" / "test" / name).read_bytes()
    assert not list(root.glob(".test.*.tmp")) and not (root / ".partial").exists()


def test_download_verifies_and_extracts(server, tarball, tmp_path, svhn):
    archive = tarball[1]
    assert run(server, archive, tmp_path) == [tmp_path / "test"]
    assert_complete(tmp_path, archive, svhn)
    assert not (tmp_path / "test.tar.gz").exists()  # removed once extracted
    assert server.ranges == [None]
    run(server, archive, tmp_path)  # complete: skipped without a request
    assert server.ranges == [None]


def test_interrupted_download_resumes_with_range(server, tarball, tmp_path, svhn):
    archive, k = tarball[1], tarball[1].size // 3
    server.cut = k
    with pytest.raises(DownloadError, match="rerun"):
        run(server, archive, tmp_path, retries=0)
    assert (tmp_path / ".partial" / "test.tar.gz.part").stat().st_size == k
    assert not (tmp_path / "test").exists()
    run(server, archive, tmp_path, keep_archives=True)
    assert server.ranges == [None, f"bytes={k}-"] and server.statuses == [200, 206]
    assert hashlib.md5((tmp_path / "test.tar.gz").read_bytes()).hexdigest() == archive.md5
    assert_complete(tmp_path, archive, svhn)


def test_broken_connection_resumes_within_one_run(server, tarball, tmp_path, svhn):
    server.cut = k = tarball[1].size // 2
    run(server, tarball[1], tmp_path)
    assert server.ranges == [None, f"bytes={k}-"]
    assert_complete(tmp_path, tarball[1], svhn)


def test_server_ignoring_range_restarts_cleanly(server, tarball, tmp_path, svhn):
    server.cut = k = tarball[1].size // 4
    with pytest.raises(DownloadError):
        run(server, tarball[1], tmp_path, retries=0)
    server.ignore_range = True
    run(server, tarball[1], tmp_path)
    assert server.ranges[1] == f"bytes={k}-" and server.statuses == [200, 200]
    assert_complete(tmp_path, tarball[1], svhn)


def test_wrong_md5_is_fetched_again_once(server, tarball, tmp_path, svhn):
    server.corrupt = 1
    run(server, tarball[1], tmp_path)
    assert server.ranges == [None, None]
    assert_complete(tmp_path, tarball[1], svhn)


def test_wrong_md5_twice_fails_cleanly(server, tarball, tmp_path):
    wrong = Archive("test", "test.tar.gz", tarball[1].size, "0" * 32)
    with pytest.raises(DownloadError, match="still wrong"):
        run(server, wrong, tmp_path)
    assert len(server.ranges) == 2
    assert not (tmp_path / "test").exists() and not list(tmp_path.rglob("*.tar.gz*"))


def test_hand_fetched_archives(server, tarball, tmp_path, svhn):
    data, archive = tarball
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "test.tar.gz").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # corrupt: same size
    with pytest.raises(DownloadError, match="MD5"):
        run(server, archive, tmp_path / "a", archives_dir=hand)
    assert not (tmp_path / "a" / "test").exists()
    (hand / "test.tar.gz").write_bytes(data)
    run(server, archive, tmp_path / "a", archives_dir=hand)
    assert_complete(tmp_path / "a", archive, svhn)
    assert (hand / "test.tar.gz").exists() and server.ranges == []  # the user's file stays; no network
    with pytest.raises(DownloadError, match="not found"):
        run(server, archive, tmp_path / "b", archives_dir=tmp_path / "nowhere")


def test_http_error_fails_in_one_line(server, tarball, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404.*--archives DIR"):
        download(["test"], tmp_path, base_url=server.url + "gone/", archives={"test": tarball[1]}, progress=False)


def test_incomplete_folder_is_not_trusted(server, tarball, tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "1.png").write_bytes(b"half")
    with pytest.raises(DownloadError, match="not a complete extraction"):
        run(server, tarball[1], tmp_path)
    assert server.ranges == []


def test_unsafe_archive_member_is_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DownloadError):
        extract(evil, root, Archive("test", "evil.tar.gz", 0, ""), progress=False)
    assert not (tmp_path / "escaped.txt").exists() and os.listdir(root) == []


def test_cli_downloads(server, tarball, tmp_path, svhn, monkeypatch):
    monkeypatch.setitem(archives_mod.ARCHIVES, "test", tarball[1])  # the table download() defaults to
    assert main(["download", "--splits", "test", "--dir", str(tmp_path), "--url", server.url, "--no-progress"]) == 0
    assert_complete(tmp_path, tarball[1], svhn)


def test_cli_refuses_corrupt_hand_fetched_archive(tmp_path, capsys):
    (tmp_path / "test.tar.gz").write_bytes(b"not an archive")
    assert main(["download", "--splits", "test", "--dir", str(tmp_path / "d"), "--archives", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "size 14 bytes" in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "train.svhn", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return proc, time.perf_counter() - start


def test_cli_offline_fails_fast_in_one_line(tmp_path):
    # Loopback only: a closed port is what "offline" looks like to the downloader.
    url = f"http://127.0.0.1:{_closed_port()}/"
    proc, seconds = _cli("download", "--splits", "train", "--dir", str(tmp_path), "--url", url, "--timeout", "5")
    assert proc.returncode == 1 and seconds < 15
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "cannot reach" in proc.stderr and "--archives" in proc.stderr and "train.tar.gz" in proc.stderr


def test_cli_bad_usage_exits_2_in_one_line(tmp_path):
    proc, _ = _cli("download", "--splits", "train,bogus", "--dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "bogus" in proc.stderr
    assert not os.listdir(tmp_path)
