"""The validation pictures of a run trained on another machine (train.portable on a GPU box), drawn here,
or of a run still to be trained (no --run: train's defaults, seed 0, or --val-fraction).

A folder's validation split depends only on its size and the run's seed
(train.folders.split_indices), and a train.synth picture only on (seed, index), so the held-out
pictures can be redrawn without the 100k training pictures; a real folder's are copied. Export
then measures the gate on them: `python -m export ... --threshold-data DIR,DIR`.

    python scripts/validation_pictures.py --run data/gpu/run_svhn --count 50000 --seed 300 \\
        --real-digits data/svhn/format2_train_dev --out data/gpu/val_synthA
    python scripts/validation_pictures.py --run data/gpu/run_svhn --folder data/svhn/recon/train \\
        --out data/gpu/val_recon
    python scripts/validation_pictures.py --run data/gpu/run_svhn --folder data/svhn/recon/train \\
        --training --out data/gpu/fit_recon    # the others: what the run trained on

Scenes made from the validation pictures hold numbers the reader never trained on (tuning the scene gate)
only if its synthetic folders left their digits out: recon/train is rebuilt from format2_train_dev's crops.
Draw them before making those folders, and pass them to train.synth --hold-out:

    python scripts/validation_pictures.py --folder data/svhn/recon/train --val-fraction 0.2 --out data/gpu/val_recon
    python -m train.synth --out data/gpu/synthA --count 60000 --seed 300 \\
        --real-digits data/svhn/format2_train_dev --hold-out data/gpu/val_recon

Scenes made from the training pictures can be mined for more training crops without touching them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_app.annotations import CSV_NAME, Annotation, read_annotations, write_csv  # noqa: E402
from train.cache import load_crops  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.folders import split_indices  # noqa: E402
from train.synth.generate import Job, draw  # noqa: E402
from train.synth.real_digits import held_out_names  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="run folder (its config.json gives the seed and split); without it, "
                   "train's defaults with --val-fraction")
    p.add_argument("--val-fraction", type=float, help="without --run: the run's --val-fraction (default: train's, 0.1)")
    p.add_argument("--out", type=Path, required=True, help="new folder for the validation pictures")
    p.add_argument("--folder", type=Path, help="a real training folder that is here: copy its validation pictures")
    p.add_argument("--training", action="store_true", help="with --folder: copy its training pictures instead")
    p.add_argument("--count", type=int, help="a train.synth folder's --count (redraw its validation pictures)")
    p.add_argument("--seed", type=int, help="... its --seed")
    p.add_argument("--real-digits", type=Path, help="... its --real-digits")
    p.add_argument("--real-share", type=float, default=0.25, help="... its --real-share (default 0.25)")
    p.add_argument("--focus", action="store_true", help="... its --focus")
    p.add_argument("--hold-out", type=Path, action="append", default=[], help="... its --hold-out folders")
    a = p.parse_args()
    if a.hold_out and not a.real_digits:
        p.error("--hold-out goes with --real-digits: it names the train pictures whose crops were left out")
    if a.run and a.val_fraction is not None:
        p.error("--val-fraction is for a run still to be trained; a --run's config.json gives its own")
    cfg = TrainConfig.load(a.run / "config.json") if a.run else TrainConfig(data="", out="")
    cfg.val_fraction = cfg.val_fraction if a.val_fraction is None else a.val_fraction
    if a.out.exists():
        p.error(f"{a.out} exists; pick a new --out")
    tmp = a.out.with_name(f".{a.out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    annotations = []
    if a.folder:
        crops = load_crops(a.folder)
        train, val = split_indices(len(crops), cfg.val_fraction, cfg.seed, cfg.val_max)
        keep = {crops.names[i] for i in (train if a.training else val)}
        for ann in read_annotations(a.folder):
            if ann.name in keep:
                shutil.copyfile(a.folder / ann.name, tmp / ann.name)
                annotations.append(ann)
    else:
        if a.count is None or a.seed is None:
            p.error("give --folder, or --count and --seed of the train.synth folder")
        _, val = split_indices(a.count, cfg.val_fraction, cfg.seed, cfg.val_max)
        held_out = held_out_names(a.real_digits.parent, a.hold_out) if a.hold_out else frozenset()
        job = Job(tmp, a.seed, a.real_digits, a.real_share, a.focus, held_out)
        for i in val:  # position i of the folder is picture i + 1
            picture = draw(job, int(i) + 1)
            name = f"{int(i) + 1}.png"
            picture.image.save(tmp / name, "PNG")
            annotations.append(Annotation(name, picture.digits, picture.boxes))
    write_csv(tmp / CSV_NAME, annotations)
    tmp.rename(a.out)
    print(f"{a.out}: {len(annotations)} {'training' if a.training else 'validation'} pictures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
