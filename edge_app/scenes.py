"""Scene folders: whole camera frames (N.png + digitStruct.csv) and scenes.json, which says which digit
boxes form each number of a frame and which frames hold none. Standard library only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from .annotations import Annotation, read_annotations
from .contract import Box, ContractError, union_box

SCENES_NAME = "scenes.json"


class SceneFrame(NamedTuple):
    """One frame: its file name and its numbers (each an Annotation of its own digits); () if empty."""

    name: str
    numbers: tuple[Annotation, ...]

    def number_boxes(self) -> list[Box]:
        """Each number's box: the union of its digit boxes, in frame pixels."""
        return [union_box(n.boxes) for n in self.numbers]


def is_scene_folder(folder) -> bool:
    """True for a folder written by `python -m train.synth scenes` (it holds scenes.json)."""
    return (Path(folder) / SCENES_NAME).is_file()


def read_scenes(folder) -> list[SceneFrame]:
    """Every frame of a scene folder in order, its digit boxes grouped into numbers."""
    folder = Path(folder)
    path = folder / SCENES_NAME
    try:
        record = json.loads(path.read_text())
        frames = record["frames"]
    except FileNotFoundError:
        raise ContractError(f"{folder}: no {SCENES_NAME}; is it a scene folder from python -m train.synth "
                            "scenes?") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ContractError(f"{path}: not a readable scene record ({err})") from None
    labelled = {a.name: a for a in read_annotations(folder)} if any(f["numbers"] for f in frames) else {}
    out = []
    for f in frames:
        a = labelled.get(f["name"])
        numbers = []
        for indices in f["numbers"]:
            if a is None or max(indices) >= len(a.boxes):
                raise ContractError(f"{path}: {f['name']} names digit boxes that digitStruct.csv does not hold")
            numbers.append(Annotation(a.name, tuple(a.digits[i] for i in indices), tuple(a.boxes[i] for i in indices)))
        out.append(SceneFrame(f["name"], tuple(numbers)))
    return out
