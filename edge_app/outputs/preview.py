"""`--preview`: an OpenCV window showing every frame, where a display and a GUI build of OpenCV exist."""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

import numpy as np

from .annotate import annotate_view
from .base import FrameView, Output

if TYPE_CHECKING:
    from ..app import AppConfig

log = logging.getLogger("edge_app")
WINDOW = "house numbers"
INSTEAD = "use --http 8080 and open http://127.0.0.1:8080/ in a browser for the live view instead"


class PreviewOutput(Output):
    """Absent with one log line (and a pointer to the web page) where no window can open: no display, no
    OpenCV, or OpenCV's headless build, whose imshow raises cv2.error."""

    key = "preview"

    def __init__(self) -> None:
        self.cv2 = None
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            log.warning("--preview: no display here (DISPLAY is not set); %s", INSTEAD)
            return
        try:
            import cv2
        except ImportError:
            log.warning("--preview needs OpenCV with GUI support (pip install opencv-python); %s", INSTEAD)
            return
        try:
            cv2.namedWindow(WINDOW)
        except cv2.error:
            log.warning("--preview needs an OpenCV build with GUI support; this one is headless "
                        "(pip uninstall opencv-python-headless && pip install opencv-python); %s", INSTEAD)
            return
        self.cv2 = cv2

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--preview", action=argparse.BooleanOptionalAction, default=False,
                            help="show frames in a window (needs a display and a GUI build of OpenCV)")

    @classmethod
    def from_config(cls, cfg: AppConfig) -> PreviewOutput | None:
        return cls() if cfg.preview else None

    def frame(self, view: FrameView) -> None:
        if self.cv2 is not None and view.image is not None:
            self.cv2.imshow(WINDOW, self.cv2.cvtColor(np.asarray(annotate_view(view)), self.cv2.COLOR_RGB2BGR))
            self.cv2.waitKey(1)

    def close(self) -> None:
        if self.cv2 is not None:
            self.cv2.destroyAllWindows()
