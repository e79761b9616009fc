"""Validation pictures a run has seen after all: real pictures whose digit crops a synthetic folder of the same
run composed numbers from (train.synth --real-digits without --hold-out).

recon/train is rebuilt from format2_train_dev's crops, so a reader trained on numbers made of those crops has
seen every digit of recon/train's validation pictures: it read the 50 held out by the shipped reader's run
100% right, against 84% on SVHN test. Its validation accuracy, and any gate tuned on those pictures, is then
optimistic. This finds such pictures, so that `python -m train` can say so before it trains.
"""

from __future__ import annotations

from pathlib import Path

from edge_app.contract import svhn_digit

from .folders import Split, synth_record
from .synth.real_digits import crop_labels


def seen_validation(splits: list[Split]) -> list[str]:
    """One line per (real folder, synthetic folder) pair where validation pictures of the first lend their
    digits to the second's numbers; [] when every validation picture is unseen."""
    real = [s for s in splits if synth_record(s.crops.folder) is None and len(s.val)]
    lines = []
    for synth in splits:
        crops_of = _crop_sources(synth.crops.folder)
        if not crops_of:
            continue
        for s in real:
            seen = [s.crops.names[i] for i in s.val if crops_of.get(s.crops.names[i]) == _digits(s.crops.targets[i])]
            if seen:
                lines.append(
                    f"{len(seen)} of the {len(s.val)} validation pictures of {s.name} (e.g. {seen[0]}) lend their "
                    f"digits to {synth.name}'s real-crop numbers: validation accuracy on them, and any gate tuned "
                    f"on them, will be optimistic. Make {synth.name} with train.synth --hold-out (the pictures from "
                    "scripts/validation_pictures.py)")
    return lines


def _crop_sources(folder: Path) -> dict[str, tuple[int, ...]]:
    """Picture name -> its digits, for the SVHN train pictures whose crops this synthetic folder may have used."""
    record = synth_record(folder) or {}
    real_digits, held_out = record.get("real_digits"), set(record.get("real_digits_held_out") or ())
    if not real_digits or not record.get("real_share"):
        return {}
    digits: dict[str, dict[int, int]] = {}
    try:
        for r in crop_labels(Path(real_digits)):
            if r["format1_image"] not in held_out:
                digits.setdefault(r["format1_image"], {})[int(r["digit_index"])] = svhn_digit(int(r["label"]))
    except (OSError, KeyError, ValueError):
        return {}  # made on another machine, or not a crop folder: nothing here to check against
    return {name: tuple(d[i] for i in sorted(d)) for name, d in digits.items()}


def _digits(target) -> tuple[int, ...]:
    """(length, d1..d5) -> the digits."""
    return tuple(int(d) for d in target[1:1 + int(target[0])])
