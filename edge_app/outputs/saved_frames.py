"""Hard frames saved from the page with the number the user saw: a labelled folder `python -m train` takes as it is.

Each save writes the frame as `N.png` and rewrites `digitStruct.csv` with its digit boxes: the region the app
read (the detector's box, else the ROI) split into as many equal boxes as the number has digits. The reader is
trained on the union of a picture's digit boxes grown by the contract, so that union is what matters, and it is
exactly the region; "no number" is saved as a negative (label 0). Every file is written whole (temp + rename).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from PIL import Image

from ..annotations import CSV_NAME, Annotation, read_annotations, write_csv
from ..atomic import write_atomic
from ..contract import Box


class SavedFrames:
    """The folder of saved frames; `save` is called from the page's request threads, one at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def save(self, image, region: list[int], number: str) -> str:
        """Save one frame with the number seen in `region` ('' for none); returns the picture's name."""
        if number and not (number.isascii() and number.isdigit() and len(number) <= 5):
            raise ValueError(f"{number!r}: a house number here is 1 to 5 digits (or empty for no number)")
        x, y, w, h = (float(v) for v in region)
        if w < 4 or h < 4:
            raise ValueError("the region is too small to save")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            csv = self.folder / CSV_NAME
            known = read_annotations(self.folder) if csv.is_file() else []
            name = f"{max((int(Path(a.name).stem) for a in known if Path(a.name).stem.isdigit()), default=0) + 1}.png"
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            write_atomic(self.folder / name, buffer.getvalue())
            if number:
                step = w / len(number)
                boxes = tuple(Box(x + i * step, y, step, h) for i in range(len(number)))
                annotation = Annotation(name, tuple(int(d) for d in number), boxes)
            else:
                annotation = Annotation(name, (), (Box(x, y, w, h),))
            tmp = csv.with_name(f".{CSV_NAME}.tmp")
            write_csv(tmp, [*known, annotation])
            tmp.replace(csv)
        return name
