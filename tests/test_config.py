"""--config device.toml: keys named as the flags, flags win, one clear line for a bad file, ROI written back
atomically."""

import subprocess
import sys
from pathlib import Path

import pytest

from edge_app.__main__ import parse_args
from edge_app.config import ConfigError, save_roi, tomllib
from edge_app.contract import Box
from tests.conftest import ROOT
from tests.test_edge_app import SHIPPED, app, events


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(text)
    return path


def test_the_shipped_example_is_valid():
    cfg = parse_args(["--config", str(ROOT / "deploy" / "device.toml")])
    assert cfg.source == "picamera" and cfg.roi is None and cfg.fps == 5 and cfg.quiet  # no roi: the detector finds it


def test_file_values_go_through_the_flags_types(tmp_path):
    path = write(tmp_path, 'source = "pics"\nroi = [10, 20, 30.5, 40]\nsize = [320, 240]\nsmooth = "off"\n'
                           'threshold = 0\nmax-frames = 7\njsonl = "r.jsonl"\nquiet = true\nlooks = 1\n')
    cfg = parse_args(["--config", str(path)])
    assert cfg.roi == Box(10, 20, 30.5, 40) and cfg.size == (320, 240) and cfg.smooth is None
    assert cfg.threshold == 0.0 and cfg.max_frames == 7 and cfg.jsonl == Path("r.jsonl") and cfg.quiet
    assert cfg.looks == 1 and parse_args(["--source", "x"]).looks == 2  # the detector's looks; two by default


def test_flags_override_the_file(tmp_path):
    path = write(tmp_path, 'source = "pics"\nroi = "1,2,3,4"\nfps = 5\nquiet = true\n')
    cfg = parse_args(["--config", str(path), "--fps", "2", "--no-quiet", "--source", "other"])
    assert (cfg.fps, cfg.quiet, cfg.source, cfg.roi) == (2.0, False, "other", Box(1, 2, 3, 4))
    cfg = parse_args(["--config", str(path), "--scan"])  # a region mode on the command line drops the file's roi
    assert cfg.scan and cfg.roi is None


@pytest.mark.parametrize("text, message", [
    ('sorce = "x"', "unknown key 'sorce' (did you mean 'source'?)"),
    ('source = "x"\nfps = "fast"', "key 'fps': 'fast' is not a number"),
    ('source = "x"\nfps = 0', "key 'fps': 0 must be above 0"),
    ('source = "x"\nmqtt = "http://broker"', "key 'mqtt': 'http://broker': expected mqtt://"),
    ('source = "x"\nroi = "1,2,3"', "key 'roi': expected x,y,w,h"),
    ('source = "x"\nroi = [1, 2, 0, 4]', "key 'roi': width and height must be positive"),
    ('source = "x"\nquiet = 1', "key 'quiet': expected true or false, got 1"),
    ('source = "x"\nthreads = true', "key 'threads': expected a value like its flag takes"),
    ('source = "x"\nsize = [1, "a"]', "key 'size': expected a single value, got a list"),
    ('source = "x"\n[mqtt]\nhost = "a"', "key 'mqtt' is a table"),
    ('source = "x"\nconfig = "other.toml"', "unknown key 'config'"),
    ('source = "x"\nroi = "1,2,3,4"\nscan = true', "keys roi, scan exclude each other"),
    ('source = "x"\nlooks = 3', "key 'looks': invalid choice: 3"),
    ("source = ", "not valid TOML"),
])
def test_bad_files_are_one_line_naming_the_key(tmp_path, text, message):
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as err:
        parse_args(["--config", str(path)])
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_file_from_the_command_line_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, 'source = "x"\nmax-frame = 3\n')
    proc = app("--config", path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {path}: unknown key 'max-frame' (did you mean 'max-frames'?)")
    proc = app("--config", tmp_path / "missing.toml")
    assert proc.returncode == 2 and "no such config file" in proc.stderr and proc.stderr.count("\n") == 1


def test_the_app_runs_from_a_config_file(svhn, tmp_path):
    out = tmp_path / "r.jsonl"
    path = write(tmp_path, f'model = "{SHIPPED}"\nsource = "{svhn / "recon" / "test" / "1.png"}"\n'
                           f'boxes = true\nthreshold = 0\njsonl = "{out}"\nquiet = true\n')
    proc = app("--config", path)
    assert proc.returncode == 0, proc.stderr
    assert [e["file"] for e in events(out)] == ["1.png"] and proc.stdout == ""


def test_save_roi_keeps_the_rest_of_the_file(tmp_path):
    path = write(tmp_path, '# my gate camera\nsource = "picamera"\nroi = "1,2,3,4"   # old\nfps = 5\n')
    save_roi(path, Box(10, 20.25, 300, 140))
    assert path.read_text() == '# my gate camera\nsource = "picamera"\nroi = "10,20.2,300,140"   # old\nfps = 5\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device.toml"]  # no temp file left behind


def test_save_roi_adds_the_key_and_turns_scan_off(tmp_path):
    path = write(tmp_path, 'source = "picamera"\nscan = true\n')
    save_roi(path, Box(5, 6, 70, 80))
    data = tomllib.loads(path.read_text())
    assert data == {"source": "picamera", "roi": "5,6,70,80"} and "# scan = true" in path.read_text()
    cfg = parse_args(["--config", str(path)])  # the next start reads it back
    assert cfg.roi == Box(5, 6, 70, 80) and not cfg.scan


def test_save_roi_keeps_a_symlink_and_the_files_permissions(tmp_path):
    """The config holds the MQTT password: a 0600 file stays 0600, and a link to it stays a link."""
    real = write(tmp_path, 'source = "picamera"\nfps = 1\n')
    real.chmod(0o600)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    save_roi(link, Box(1, 2, 30, 40))
    assert link.is_symlink() and tomllib.loads(real.read_text())["roi"] == "1,2,30,40"
    assert real.stat().st_mode & 0o777 == 0o600


def test_save_roi_refuses_a_roi_line_it_cannot_edit_and_leaves_the_file(tmp_path):
    text = 'source = "picamera"\nnote = """\nroi = "9,9,9,9"\n"""\nroi = "1,2,3,4"\n'
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="edit it by hand"):
        save_roi(path, Box(5, 6, 70, 80))
    assert path.read_text() == text


def test_a_config_with_a_utf8_bom_reads(tmp_path):
    path = tmp_path / "device.toml"
    path.write_bytes('\ufeffsource = "x"\nfps = 5\n'.encode())
    assert parse_args(["--config", str(path)]).fps == 5


def test_a_second_app_on_the_same_config_refuses_in_one_line(svhn, tmp_path):
    config = write(tmp_path, f'source = "{svhn / "recon" / "test"}"\nboxes = true\nmodel = "{SHIPPED}"\n')
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from edge_app.config import own; "
                               f"own({str(config)!r}); print('held', flush=True); sys.stdin.read()"],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = app("--config", config, "--max-frames", "2")
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1
        assert "another house-numbers process runs with this config file" in proc.stderr
    finally:
        holder.communicate("", timeout=10)
    assert app("--config", config, "--max-frames", "2").returncode == 0  # released with its process
