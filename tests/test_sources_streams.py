"""Network streams through OpenCV: a real HTTP server on loopback serving a real MJPEG clip of SVHN pictures."""

from __future__ import annotations

import functools
import logging
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from edge_app.sources import SourceError, open_source
from edge_app.sources.streams import redact

PICTURES = [105, 180, 62, 15, 68]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def clip(svhn, tmp_path):
    """An MJPEG .avi of five real pictures (320x240) and the pictures themselves."""
    cv2 = pytest.importorskip("cv2")
    pictures = [np.asarray(Image.open(svhn / "recon" / "test" / f"{n}.png").convert("RGB").resize((320, 240)))
                for n in PICTURES]
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for picture in pictures:
        writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    writer.release()
    return tmp_path, pictures


@pytest.fixture
def server(clip):
    """http://127.0.0.1:PORT/ serving the clip's folder; stopped after the test."""
    folder, _ = clip
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_stream_frames_come_back_rgb_and_reconnect(server, clip, caplog):
    _, pictures = clip
    caplog.set_level(logging.WARNING, logger="edge_app")
    with open_source(f"{server}/clip.avi", retries=2, backoff=0.01, timeout=5.0) as source:
        assert source.is_live
        iterator = iter(source)
        frames = [next(iterator) for _ in range(len(pictures) + 2)]  # past the end: the stream "drops"
    for frame, picture in zip(frames, pictures + pictures[:2], strict=True):
        assert frame.image.shape == (240, 320, 3) and frame.lores is None
        got, want = frame.image.reshape(-1, 3).mean(0), picture.reshape(-1, 3).mean(0)
        np.testing.assert_allclose(got, want, atol=8)  # RGB order: these pictures differ by >45 in red vs blue
    assert [r.message for r in caplog.records if "reconnecting" in r.message]  # one outage, then back


def test_unreachable_stream_is_one_line_without_the_password():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytest.importorskip("cv2")
    with pytest.raises(SourceError) as err:
        open_source(f"http://admin:hunter2@127.0.0.1:{port}/video.mjpg", timeout=2.0)
    message = str(err.value)
    assert "cannot connect" in message and "hunter2" not in message and "\n" not in message


def test_redact_hides_only_the_password():
    assert redact("rtsp://admin:s3cr:et@10.0.0.5:554/Streaming/101") == "rtsp://admin:***@10.0.0.5:554/Streaming/101"
    assert redact("http://10.0.0.5:8080/video") == "http://10.0.0.5:8080/video"


def test_a_stream_not_there_yet_at_start_exits_1_so_the_service_retries(tmp_path):
    """A router or IP camera that boots after the Pi: exit 1 (systemd restarts the unit), not 2 (a wrong source,
    which RestartPreventExitStatus keeps down)."""
    from tests.test_edge_app import SHIPPED, app

    pytest.importorskip("cv2")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = app("--model", SHIPPED, "--source", f"http://admin:pw4567@127.0.0.1:{port}/video.mjpg", "--roi",
               "0,0,50,50")
    assert proc.returncode == 1 and "cannot open the camera" in proc.stderr and "pw4567" not in proc.stderr
    wrong = app("--model", SHIPPED, "--source", tmp_path / "no-such-video.mp4", "--roi", "0,0,50,50")
    assert wrong.returncode == 2  # a wrong source stays down until fixed


def test_a_stream_that_comes_up_late_is_read_under_the_units_restart_policy(clip, tmp_path):
    """A router or IP camera that boots after the Pi: the app exits 1 while the stream is missing, and the unit's
    own policy (Restart=on-failure, RestartPreventExitStatus=2, read from deploy/house-numbers.service, with
    RestartSec shortened) starts it again until the stream is there and read, with nobody at the keyboard."""
    import re
    import time

    from tests.conftest import ROOT
    from tests.test_edge_app import SHIPPED, app

    unit = (ROOT / "deploy" / "house-numbers.service").read_text()
    assert re.search(r"^Restart=on-failure$", unit, re.M) and re.search(r"^StartLimitIntervalSec=0$", unit, re.M)
    prevent = {int(v) for v in re.search(r"^RestartPreventExitStatus=(.*)$", unit, re.M).group(1).split()}
    folder, _ = clip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = []

    def come_up():  # nothing listens on the port until then: connections are refused, as to a camera still booting
        servers.append(ThreadingHTTPServer(("127.0.0.1", port),
                                           functools.partial(_QuietHandler, directory=str(folder))))
        threading.Thread(target=servers[0].serve_forever, daemon=True).start()

    starter = threading.Timer(4.0, come_up)
    starter.start()  # the camera comes up 4 s after the service
    out = tmp_path / "r.jsonl"
    codes, deadline = [], time.time() + 90
    try:
        while time.time() < deadline:
            proc = app("--model", SHIPPED, "--source", f"http://127.0.0.1:{port}/clip.avi", "--roi", "0,0,320,240",
                       "--threshold", "0", "--smooth", "off", "--max-frames", "3", "--jsonl", out, "--quiet")
            codes.append(proc.returncode)
            if proc.returncode == 0 or proc.returncode in prevent:
                break
            time.sleep(1.0)  # RestartSec, shortened
    finally:
        starter.cancel()
        for httpd in servers:
            httpd.shutdown()
            httpd.server_close()
    assert codes[0] == 1 and codes[-1] == 0 and set(codes[:-1]) == {1}, codes
    assert out.read_text().strip()  # read once it was there
