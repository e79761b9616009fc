"""A video file read with OpenCV, frames at the file's own size, converted BGR -> RGB."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from .base import Frame, Source, SourceError, SourceOptions, import_cv2

log = logging.getLogger("edge_app")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".mjpeg", ".mjpg", ".webm", ".m4v", ".h264", ".mpg", ".mpeg")


class VideoSource(Source):
    """Frames of a video file until its end (OpenCV cannot tell the end from a broken tail)."""

    is_live = True

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self._cv2 = import_cv2()
        self._cap = self._cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"{path}: OpenCV cannot open this video")

    def _frames(self) -> Iterator[Frame]:
        index = 0
        expected = int(self._cap.get(self._cv2.CAP_PROP_FRAME_COUNT) or 0)  # from the header; 0 when unknown
        while self._cap.isOpened():
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                break
            # the file's own timestamp: a variable frame rate or a dropped frame shows in it
            seconds = self._cap.get(self._cv2.CAP_PROP_POS_MSEC) / 1000
            yield Frame(index, self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB), time=seconds)
            index += 1
        if index < expected:  # OpenCV stops at the first frame it cannot decode, without a word
            log.warning("%s: the video ended at frame %d of the %d its header announces (damaged or cut short?)",
                        self.name, index, expected)

    def close(self) -> None:
        self._cap.release()


def open_video(spec: str, options: SourceOptions) -> VideoSource:
    return VideoSource(Path(spec))
