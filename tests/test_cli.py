"""One command-line convention for every CLI: help that renders, range-checked flags, one exit-code table."""

import importlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from edge_app import cli

from .conftest import ROOT, run_module

CLIS = ["edge_app", "edge_app.bench", "train", "train.evaluate", "train.bench", "train.synth", "calibration",
        "export", "train.recover", "train.breakdown", "train.tta_bench"]


def _main(module: str):
    package = importlib.import_module(module)
    return importlib.import_module(f"{module}.__main__").main if hasattr(package, "__path__") else package.main


@pytest.mark.parametrize("module", CLIS + ["train.svhn download", "edge_app doctor", "train.synth scenes"])
def test_help_renders_examples_and_no_empty_defaults(module, capsys):
    name, *sub = module.split()
    with pytest.raises(SystemExit) as done:
        _main(name)([*sub, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "(default: None)" not in out and "(default: False)" not in out
    example = [line for line in out.splitlines() if line.strip().startswith("python -m")]
    assert example and all(line.startswith("    ") for line in example), out  # kept as written, not reflowed
    assert not any(re.search(r"\S {2,}--", line) for line in example), out  # a `\` continuation not eaten
    assert all(flag in out for flag in ("-v", "--verbose", "-q", "--quiet"))


BAD = [
    ("edge_app.bench", ["--runs", "0"], "--runs: 0 must be at least 1"),
    ("edge_app.bench", ["--threads", "0"], "--threads: 0 is not in 1..64"),
    ("edge_app.bench", ["--threads", "100000"], "--threads: 100000 is not in 1..64"),
    ("edge_app.bench", ["--json", "/tmp"], "/tmp is a folder"),
    ("train", ["--data", "x", "--out", "y", "--steps", "-5"], "--steps: -5 must be at least 1"),
    ("train", ["--data", "x", "--out", "y", "--steps", "0"], "--steps: 0 must be at least 1"),
    ("train", ["--data", "x", "--out", "y", "--learning-rate", "nan"], "not a finite number"),
    ("train.evaluate", ["--model", "m.tflite", "--data", "d", "--limit", "-3"], "--limit: -3 must be at least 1"),
    ("train.evaluate", ["--model", "m.tflite", "--data", "d", "--json", "/tmp"], "/tmp is a folder"),
    ("train.evaluate", ["--model", "m.tflite", "--data", "d", "--json", "/etc/hostname/x.json"], "not a folder"),
    ("calibration", ["--data", "d", "--out", "/tmp"], "/tmp is a folder"),
    ("calibration", ["--data", "d", "--out", "c.npz", "--count", "0"], "--count: 0 is not in 1..100000"),
    ("train.synth", ["--out", "x", "--count", "5", "--real-share", "1.5"], "1.5 must be at least 0 and at most 1"),
    ("train.bench", ["--archs", "resnet"], "choose from edge, goodfellow"),
    ("export", ["--model", "m", "--calibration", "c", "--out", "o", "--eval-limit", "0"], "must be at least 1"),
]


@pytest.mark.parametrize("module,args,message", BAD, ids=[f"{m} {' '.join(a[-2:])}" for m, a, _ in BAD])
def test_bad_flags_exit_2_in_one_line(module, args, message, capsys):
    with pytest.raises(SystemExit) as done:
        _main(module)(args)
    err = capsys.readouterr().err
    assert done.value.code == cli.EXIT_USAGE and err.count("\n") == 1 and message in err, err


def test_run_maps_errors_to_the_exit_code_table(caplog):
    assert cli.run(lambda: None) == cli.EXIT_OK
    assert cli.run(lambda: _raise(cli.UserError("bad input"))) == cli.EXIT_USAGE
    assert cli.run(lambda: _raise(KeyError("x")), errors=(KeyError,)) == cli.EXIT_USAGE
    assert cli.run(lambda: _raise(OSError(28, "No space left on device"))) == cli.EXIT_FAILED
    assert cli.run(lambda: _raise(KeyboardInterrupt())) == cli.EXIT_INTERRUPTED
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback instead of becoming "error: ..."
        cli.run(lambda: 1 / 0)
    with pytest.raises(ValueError):
        cli.run(lambda: int("x"))
    assert [r.getMessage() for r in caplog.records] == ["bad input", "'x'", "[Errno 28] No space left on device",
                                                       "interrupted"]


def _raise(err):
    raise err


def test_verbose_and_quiet_set_the_log_level(tmp_path):
    # INFO lines (the cache build) show by default, vanish with -q; warnings stay. -v shows our DEBUG lines,
    # not those of the libraries (matplotlib's font search alone is a hundred lines).
    code = ("import logging, sys\nfrom edge_app import cli\ncli.setup_logging(quiet='-q' in sys.argv, "
            "verbose='-v' in sys.argv)\nlogging.getLogger('train.x').debug('d')\n"
            "logging.getLogger('matplotlib.font_manager').debug('font')\nlogging.getLogger('train.x').info('i')\n"
            "logging.getLogger('train.x').warning('w')\n")
    runs = {flag: subprocess.run([sys.executable, "-c", code, flag], cwd=ROOT, capture_output=True, text=True).stderr
            for flag in ("-v", "", "-q")}
    assert runs == {"-v": "d\ni\nwarning: w\n", "": "i\nwarning: w\n", "-q": "warning: w\n"}


def test_sigterm_before_work_ends_quietly_with_130(tmp_path):
    # SIGTERM while the evaluation builds its cache: no traceback, no output and no half-built cache left.
    proc = subprocess.Popen([sys.executable, "-m", "train.evaluate", "--model", "models/house_numbers.tflite",
                             "--data", str(ROOT.parent / "shared/data/svhn/recon/test"), "--json",
                             str(tmp_path / "e.json")], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HOUSE_NUMBERS_CACHE": str(tmp_path / "cache")})
    deadline = time.time() + 60
    while not list((tmp_path / "cache").glob("*.building")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == cli.EXIT_INTERRUPTED and "Traceback" not in err, err
    assert not list(tmp_path.glob("e.*")) and not list((tmp_path / "cache").glob("*.building"))


def test_every_cli_says_bad_data_in_one_line_with_exit_2(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for args in (["train.evaluate", "--model", "models/house_numbers.tflite", "--data", data],
                 ["calibration", "--data", data, "--out", tmp_path / "c.npz"],
                 ["train", "--data", data, "--out", tmp_path / "run"]):
        proc = run_module(*args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "neither digitStruct" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_train_refuses_test_data_like_calibration(svhn, tmp_path):
    proc = run_module("train", "--data", svhn / "recon" / "test", "--out", tmp_path / "run")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is a test split: training on" in proc.stderr
    assert not (tmp_path / "run").exists()
