"""Models and the training loop: heads, shapes, a real tiny run, resume after a kill, refusals."""

import json
import os
import signal
import threading

import numpy as np
import pytest

from edge_app.contract import HEADS
from tests.conftest import run_main, run_module


@pytest.mark.parametrize("arch", ["edge", "goodfellow"])
def test_architectures_take_uint8_pixels_and_end_in_six_named_heads(arch):
    from train.models import build_model

    model = build_model(arch)
    assert model.inputs[0].dtype == "uint8" and tuple(model.inputs[0].shape) == (None, 54, 54, 3)
    assert sorted(model.output_names) == sorted(HEADS)
    out = model.predict(np.zeros((2, 54, 54, 3), np.uint8), verbose=0)
    assert out["length"].shape == (2, 7)
    assert all(out[f"digit{i}"].shape == (2, 11) for i in range(1, 6))
    assert np.allclose(out["digit3"].sum(axis=1), 1, atol=1e-5)  # softmax heads


def test_edge_is_far_lighter_than_goodfellow():
    from train.bench import flops
    from train.models import build_model

    edge, paper = build_model("edge"), build_model("goodfellow")
    assert flops(paper) / flops(edge) >= 20
    assert 0.8e6 <= edge.count_params() <= 2.2e6  # int8 file of 1-2 MB


def test_unknown_arch_is_refused():
    proc = run_module("train", "--data", "x", "--out", "y", "--arch", "resnet")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def test_tiny_run_writes_its_artifacts(tiny_run):
    for name in ("model.keras", "config.json", "metrics.json", "training_curve.png"):
        assert (tiny_run / name).is_file(), name
    assert any((tiny_run / "logs").iterdir())  # TensorBoard
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["steps"] == 40 and [h["step"] for h in metrics["history"]] == [20, 40]
    config = json.loads((tiny_run / "config.json").read_text())
    assert config["arch"] == "edge" and config["steps"] == 40


def test_finished_run_is_not_overwritten(tiny_run, synth):
    before = (tiny_run / "model.keras").stat().st_mtime_ns
    proc = run_module("train", "--data", synth, "--out", tiny_run, "--steps", "5")
    assert proc.returncode == 2 and "already holds a run" in proc.stderr and "Traceback" not in proc.stderr
    assert (tiny_run / "model.keras").stat().st_mtime_ns == before


def test_resume_refuses_another_config(tiny_run, synth):
    proc = run_module("train", "--data", synth, "--out", tiny_run, "--arch", "goodfellow", "--resume")
    assert proc.returncode == 2 and "another configuration" in proc.stderr and "arch" in proc.stderr


def test_empty_data_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = run_module("train", "--data", tmp_path / "empty", "--out", tmp_path / "run", "--steps", "5")
    assert proc.returncode == 2 and "neither digitStruct.csv nor digitStruct.mat" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_killed_run_resumes_and_a_corrupt_checkpoint_falls_back_to_the_one_before(tmp_path, synth):
    # SIGTERM from outside while the run trains. The run is in this process (a TensorFlow start-up less); the
    # signal is a real one, caught by the run's own handler, and it comes with 30 steps to spare before the end.
    out = tmp_path / "run"
    stop = threading.Event()

    def terminate_after_two_checkpoints():
        while not stop.wait(0.1):
            if (out / "ckpt" / "prev.json").exists():
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=terminate_after_two_checkpoints, daemon=True).start()
    try:
        proc = run_main("train", "--data", synth, "--out", out, "--steps", "40", "--batch-size", "16",
                        "--checkpoint-every", "5", "--eval-every", "10")
    finally:
        stop.set()
    err = proc.stderr
    assert proc.returncode == 130, err[-2000:]
    assert "--resume" in err and "Traceback" not in err
    stopped = json.loads((out / "ckpt" / "last.json").read_text())
    import keras

    def saved_step(name):
        return int(keras.models.load_model(out / "ckpt" / name).optimizer.iterations.numpy())

    step, before = saved_step("last.keras"), saved_step("prev.keras")
    assert 10 <= step < 40 and 5 <= before < step and not (out / "metrics.json").exists()
    # Validation ran at step 10 (the run got that far: two checkpoints) and not since.
    assert [h["step"] for h in stopped["history"]] == [10]

    # The last checkpoint is damaged (a disk error, a kill mid-copy): the run goes on from the one before.
    (out / "ckpt" / "last.keras").write_bytes(b"not a zip")
    proc = run_main("train", "--out", out, "--resume", "--steps", "20")  # and shortened
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "last.keras is unreadable" in proc.stderr and "resuming from" in proc.stderr
    assert (out / "ckpt" / "last.keras.corrupt").exists()
    assert f"{before}/20" in proc.stderr  # the progress bar starts at the saved step, not at 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 20 and [h["step"] for h in metrics["history"]] == [10, 20]


def test_evaluate_writes_the_design_keys(tiny_run, svhn, tmp_path):
    out = tmp_path / "eval.json"
    proc = run_main("train.evaluate", "--model", tiny_run / "model.keras", "--data", svhn / "recon" / "test",
                      "--limit", "120", "--json", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    for key in ("sequence_accuracy", "digit_accuracy", "by_length", "coverage_at_98", "count"):
        assert key in report
    assert report["count"] == 120
    assert sum(v["count"] for v in report["by_length"].values()) == 120
    assert out.with_suffix(".coverage.png").is_file() and out.with_suffix(".mistakes.png").is_file()


def test_evaluate_refuses_a_file_that_is_not_a_model(tmp_path, svhn):
    bad = tmp_path / "model.keras"
    bad.write_text("hello")
    proc = run_module("train.evaluate", "--model", bad, "--data", svhn / "recon" / "test", "--limit", "5")
    assert proc.returncode == 2 and "not a Keras model" in proc.stderr and "Traceback" not in proc.stderr


def test_train_only_one_head_leaves_every_other_weight_as_it_was(tmp_path, tiny_run, synth):
    import keras

    from train.config import TrainConfig
    from train.fit import RunError, train

    cfg = dict(data=str(synth), arch="edge", steps=3, batch_size=16, eval_every=3, checkpoint_every=3,
               warmup_steps=1, val_fraction=0.1, init=str(tiny_run / "model.keras"))
    train(TrainConfig(out=str(tmp_path / "run"), train_only="length", **cfg))
    before = keras.models.load_model(tiny_run / "model.keras", compile=False)
    after = keras.models.load_model(tmp_path / "run" / "model.keras", compile=False)
    # by position: layers without a name of their own are numbered per process (identity, identity_4)
    changed = {new.name for new, old in zip(after.layers, before.layers)
               if any(not np.array_equal(a, b) for a, b in zip(new.get_weights(), old.get_weights()))}
    assert changed == {"length"}  # batch-norm statistics included: frozen layers run in inference mode
    with pytest.raises(RunError, match="has no layer lenght"):
        train(TrainConfig(out=str(tmp_path / "typo"), train_only="lenght", **cfg))


def test_learning_rate_is_keras_cosine_decay_with_warmup_and_old_schedules_still_resume():
    import keras

    from train.config import TrainConfig
    from train.fit import _rate_setter, learning_rate_at

    cfg, steps = TrainConfig(data="", out="", learning_rate=0.003, warmup_steps=20), 200
    keras_decay = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=steps - 20, warmup_target=0.003,
                                                         warmup_steps=20, alpha=0.02)
    for step in (0, 1, 10, 19, 20, 21, 100, 199, 200, 250):
        assert learning_rate_at(cfg, steps, step) == pytest.approx(float(keras_decay(step)), rel=1e-5)

    variable = keras.optimizers.AdamW(0.1)  # what a run builds: a rate the loop assigns before each step
    _rate_setter(variable, cfg, steps)(10)
    assert float(variable.learning_rate) == pytest.approx(0.0015)
    scheduled = keras.optimizers.AdamW(keras_decay)  # a checkpoint from before: its schedule, stretched to `steps`
    _rate_setter(scheduled, cfg, 400)(10)
    assert float(scheduled.learning_rate) == 0.0  # iterations 0: the stretched schedule's own warm-up start
    assert scheduled.get_config()["learning_rate"]["config"]["decay_steps"] == 380
