"""Issue 14, section 6 and the Ctrl-C part of 7: signals at awkward moments, a missing Edge TPU library."""

from __future__ import annotations

import os
import random
import shutil
import signal
import time

from .kit import Ctx, case, check, children, finish, judge, wait_for

QUIET = ("Traceback", "BrokenPipe", "KeyboardInterrupt", "Exception ignored")


def _synth(ctx: Ctx, sig: signal.Signals):
    parent = ctx.dir(f"synth_{sig.name}")
    proc = ctx.popen("train.synth", "--out", parent / "synth", "--count", "20000", "--workers", "2", "-q",
                     start_new_session=True)
    started = wait_for(lambda: sum(len(os.listdir(p)) for p in parent.glob(".synth.partial-*")) >= 20, 120)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C in a terminal reaches the whole process group, workers too
    else:
        proc.send_signal(sig)
    done = finish(proc)
    left = os.listdir(parent)
    return [check(started, "unexpected", "the generator never started"),
            judge(done, 130, never=QUIET, lost=f"left {left}" if left else None)]


@case("6.1", "SIGTERM to train.synth while its workers write", "exit 130, the partial folder removed, "
      "no BrokenPipe tracebacks", "a .partial-PID folder of hundreds of files left, BrokenPipe tracebacks", quick=True)
def synth_sigterm(ctx: Ctx):
    return _synth(ctx, signal.SIGTERM)


@case("6.2", "Ctrl-C (SIGINT to the group) to train.synth", "exit 130, nothing left, no tracebacks",
      "(as 6.1)")
def synth_sigint(ctx: Ctx):
    return _synth(ctx, signal.SIGINT)


def _fake_edgetpu(ctx: Ctx, name: str):
    folder = ctx.dir(name)
    shutil.copyfile(ctx.model, folder / "m_edgetpu.tflite")
    shutil.copyfile(ctx.model.with_suffix(".json"), folder / "m.json")
    (folder / "libedgetpu.so.1").write_bytes(b"not a library")
    return folder, {"HOUSE_NUMBERS_LIBEDGETPU": str(folder / "libedgetpu.so.1")}


@case("6.3", "SIGINT while the model loads (during the Edge TPU probe)",
      "a quiet exit 130 (or exit 2 with the delegate's one line, when the probe had already failed)",
      "KeyboardInterrupt traceback")
def sigint_loading(ctx: Ctx):
    folder, env = _fake_edgetpu(ctx, "sigint_load")
    proc = ctx.popen("edge_app", "--model", folder / "m_edgetpu.tflite", "--edgetpu", "--source", ctx.model,
                     "--roi", "0,0,54,54", "--jsonl", folder / "r.jsonl", env=env)
    probing = wait_for(lambda: bool(children(proc.pid)), 60)
    proc.send_signal(signal.SIGINT)
    done = finish(proc)
    if done.returncode == 2:  # the stand-in failed its probe before the signal landed (a loaded host): 6.4's line
        return [check(probing, "unexpected", "no probe seen"), judge(done, 2, says="Edge TPU delegate", one_line=True)]
    return [check(probing, "unexpected", "no probe seen; signalled anyway"), judge(done, 130, never=QUIET)]


@case("6.4", "--edgetpu without libedgetpu (absent, then a broken one)", "one line saying so, exit 2",
      "a good line, then a LiteRT __del__ traceback")
def edgetpu_missing(ctx: Ctx):
    folder, env = _fake_edgetpu(ctx, "edgetpu")
    args = ("edge_app", "--model", folder / "m_edgetpu.tflite", "--edgetpu", "--source", ctx.model)
    absent = {"HOUSE_NUMBERS_LIBEDGETPU": str(folder / "nowhere" / "libedgetpu.so.1")}
    return [judge(ctx.run(*args, env=absent), 2, says="Edge TPU", never=QUIET, one_line=True),
            judge(ctx.run(*args, env=env), 2, says="cannot load the Edge TPU delegate", never=QUIET, one_line=True)]


# Not in --quick (CI): once, under a load of 7.5, it printed its interrupted line and then died by SIGINT (rc -2);
# not reproduced since. The full pass keeps it, with the stderr tail of any failure in its report.
@case("6.5", "SIGTERM to train.evaluate while it builds the crop cache", "exit 130, no report, no half-built "
      "cache", "(not tried)")
def evaluate_sigterm(ctx: Ctx):
    folder = ctx.dir("eval_sigterm")
    cache = folder / "cache"
    proc = ctx.popen("train.evaluate", "--model", ctx.model, "--data", ctx.svhn / "recon" / "test", "--json",
                     folder / "e.json", env={"HOUSE_NUMBERS_CACHE": str(cache)})
    building = wait_for(lambda: bool(list(cache.glob("*.building"))), 120)
    proc.send_signal(signal.SIGTERM)
    done = finish(proc)
    left = [p.name for p in folder.glob("e.*")] + [p.name for p in cache.glob("*.building")]
    return [check(building, "unexpected", "the cache was never seen building"),
            judge(done, 130, never=QUIET, lost=f"left {left}" if left else None)]


@case("6.6", "Ctrl-C to edge_app once it reads", "it flushes, prints its summary, exit 0 (the README's table); "
      "each JSONL line whole", "exit 0 where train said 130: undocumented")
def edge_app_sigint(ctx: Ctx):
    import json

    jsonl = ctx.dir("edge_sigint") / "r.jsonl"
    proc = ctx.popen("edge_app", "--source", ctx.svhn / "recon" / "test", "--scan", "--threshold", "0",
                     "--jsonl", jsonl, "--fps", "20")
    reading = wait_for(lambda: jsonl.exists() and len(jsonl.read_text().splitlines()) >= 5, 120)
    proc.send_signal(signal.SIGINT)
    done = finish(proc)
    lines = jsonl.read_text().splitlines() if jsonl.exists() else []
    whole = all(_is_json(json, x) for x in lines)
    said = f"readings {len(lines)} " in (done.stderr or "")
    lost = None if whole and said else f"{len(lines)} JSONL lines, whole: {whole}, summary agrees: {said}"
    return [check(reading, "unexpected", "never read"), judge(done, 0, says="frames", never=QUIET, lost=lost)]


def _is_json(json, line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


@case("6.7", "train: Ctrl-C mid-run, then SIGKILL at a random moment of its checkpoint saves, then --resume",
      "130 with a checkpoint; the killed run resumes from a consistent checkpoint and finishes, exit 0; no temp "
      "files of the killed save left",
      "130 on Ctrl-C; a kill between the two renames could pair model and metadata (read from the code)")
def train_kill_resume(ctx: Ctx):
    run = ctx.dir("resume") / "run"
    args = ("train", "--data", ctx.svhn / "recon" / "train", "--out", run, "--steps", "40", "--batch-size", "8",
            "--checkpoint-every", "1", "--eval-every", "20", "--val-max", "16")
    saved = run / "ckpt" / "last.keras"
    proc = ctx.popen(*args)
    wait_for(saved.exists, 300)
    proc.send_signal(signal.SIGINT)
    steps = [judge(finish(proc, 300), 130, says="resume", never=QUIET,
                   lost=None if saved.exists() else "no checkpoint to resume")]
    proc = ctx.popen(*args, "--resume")
    first = saved.stat().st_mtime if saved.exists() else 0
    wait_for(lambda: saved.exists() and saved.stat().st_mtime != first, 300)
    time.sleep(random.Random(ctx.seed).uniform(0.0, 1.5))  # somewhere in the next saves
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    done = ctx.run(*args, "--resume")
    steps.append(judge(done, 0, lost=None if (run / "model.keras").exists() else "no model.keras"))
    litter = sorted(p.name for p in run.rglob(".*") if p.is_file())  # temp files of a save the kill cut short
    steps.append(check(not litter, "unexpected", f"left {litter}"))
    return steps
