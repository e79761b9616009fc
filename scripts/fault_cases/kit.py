"""What every fault case shares: running a CLI as a user would, and judging what came back.

Verdicts, worst first: "signal" (killed by a signal), "traceback" (a bug surfaced to the user), "timeout",
"overwritten" (an earlier run's results replaced), "silent loss" (exit 0 with output missing, partial or
wrong, and no warning), "unexpected" (another exit code or message than the documented one), "ok".
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TRACEBACK = "Traceback (most recent call last)"
VERDICTS = ("signal", "traceback", "timeout", "overwritten", "silent loss", "unexpected", "ok")


@dataclass
class Outcome:
    """One step of a case: the exit code, the line that matters, and the verdict with its reason."""

    rc: int | None
    line: str
    verdict: str = "ok"
    why: str = ""
    tail: list[str] = field(default_factory=list)  # the last stderr lines of a step that is not ok


@dataclass
class Case:
    """A fault case: id, what it tries, what a careful user expects, and the function that runs it."""

    id: str
    title: str
    expect: str
    run: Callable[[Ctx], list[Outcome]]
    quick: bool = False
    before: str = ""  # what the fault pass of issue 14 saw


@dataclass
class Ctx:
    """Where a case runs: the repo, the real data, a scratch folder, the interpreter and the environment."""

    root: Path
    svhn: Path
    tmp: Path
    python: str
    seed: int
    fuzz_seconds: float
    quick: bool = False
    shared: dict = field(default_factory=dict)  # things cases build once (a tiny trained model)

    @property
    def model(self) -> Path:
        return self.root / "models" / "house_numbers.tflite"

    def env(self, extra: dict | None = None) -> dict:
        cache = self.tmp / "cache"  # the crop cache stays in the scratch folder, never in ~/.cache
        return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HOUSE_NUMBERS_CACHE": str(cache), **(extra or {})}

    def dir(self, name: str) -> Path:
        """A fresh, empty folder for one case."""
        path = self.tmp / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def folder(self, name: str, count: int = 12, split: str = "test") -> Path:
        """`count` real recon/<split> pictures with their digitStruct.csv in a fresh folder."""
        from tests.hostile import copy_labelled

        path = self.dir(name) / "pics"
        copy_labelled(self.svhn, path, count, split)
        return path

    def argv(self, module: str, *args) -> list[str]:
        return [self.python, "-m", module, *map(str, args)]

    def run(self, module: str, *args, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        """`python -m module args` from the repo root under umask 022, as a user's shell would start it."""
        try:
            return subprocess.run(self.argv(module, *args), cwd=self.root, capture_output=True, text=True,
                                  env=self.env(env), timeout=timeout, preexec_fn=_as_from_a_terminal)
        except subprocess.TimeoutExpired as err:
            return subprocess.CompletedProcess(err.cmd, None, _text(err.stdout), _text(err.stderr))

    def popen(self, module: str, *args, env: dict | None = None, **kwargs) -> subprocess.Popen:
        """Started, not waited for: for the cases that send a signal."""
        return subprocess.Popen(self.argv(module, *args), cwd=self.root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=self.env(env), preexec_fn=_as_from_a_terminal,
                                **kwargs)


def _as_from_a_terminal():
    # A pass started in the background (`cmd &`, nohup) inherits SIGINT ignored, and so would every
    # command it starts: then Ctrl-C cases test nothing and the command runs on until killed.
    os.umask(0o022)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def finish(proc: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    """Wait for a signalled process; one that hangs is killed and reported as a timeout (rc None)."""
    try:
        _, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return subprocess.CompletedProcess(proc.args, None, "", err)


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def judge(proc: subprocess.CompletedProcess, rc: int | tuple[int, ...], says: str | tuple[str, ...] = (),
          lost: str | None = None, overwritten: str | None = None, one_line: bool = False,
          never: tuple[str, ...] = ()) -> Outcome:
    """The verdict on one run: rc and `says` are what the README documents; `lost`/`overwritten` a found harm."""
    err = proc.stderr or ""
    says = (says,) if isinstance(says, str) else says
    rcs = (rc,) if isinstance(rc, int) else rc
    out = Outcome(proc.returncode, _line(err, says))
    if proc.returncode is not None and proc.returncode < 0:
        sig = -proc.returncode
        out.verdict, out.why = "signal", f"killed by {signal.Signals(sig).name}" if sig < 65 else f"signal {sig}"
    elif TRACEBACK in err:
        out.verdict, out.why = "traceback", err[err.index(TRACEBACK):].strip().splitlines()[-1][:200]
    elif proc.returncode is None:
        out.verdict, out.why = "timeout", "did not finish in time"
    elif overwritten:
        out.verdict, out.why = "overwritten", overwritten
    elif lost and proc.returncode == 0:
        out.verdict, out.why = "silent loss", lost
    elif proc.returncode not in rcs:
        out.verdict, out.why = "unexpected", f"exit {proc.returncode}, documented {'/'.join(map(str, rcs))}"
    elif missing := [s for s in says if s not in err]:
        out.verdict, out.why = "unexpected", f"stderr does not say {missing[0]!r}"
    elif found := [s for s in never if s in err]:
        out.verdict, out.why = "unexpected", f"stderr says {found[0]!r}"
    elif one_line and err.count("\n") != 1:
        out.verdict, out.why = "unexpected", f"{err.count(chr(10))} lines on stderr, not one"
    elif lost:
        out.why = lost  # not exit 0: the loss is announced by the exit code
    if out.verdict != "ok":
        out.tail = [x.split("\r")[-1] for x in err.strip().split("\n")[-6:]]
    return out


CASES: list[Case] = []


def case(id: str, title: str, expect: str, before: str, quick: bool = False):
    """Register a case function under its id, in the order of issue 14's list."""
    def register(run):
        CASES.append(Case(id, title, expect, run, quick, before))
        return run
    return register


def check(ok: bool, verdict: str, why: str, line: str = "") -> Outcome:
    """A step that is a direct check rather than a run (a file mode, a reading compared)."""
    return Outcome(None, line, "ok" if ok else verdict, "" if ok else why)


def _line(err: str, says: tuple[str, ...]) -> str:
    """The stderr line that matters: the expected message, else the first error or warning, else the first."""
    lines = [x.split("\r")[-1].strip() for x in err.split("\n")]  # what stays on screen after progress bars
    lines = [x for x in lines if x and "%|" not in x and not x.startswith("frame ")]
    for pick in ([x for x in lines if any(s in x for s in says)], [x for x in lines if x.startswith("error:")],
                 [x for x in lines if x.startswith("warning:")], lines):
        if pick:
            return pick[0][:240]
    return ""
