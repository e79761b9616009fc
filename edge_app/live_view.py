"""What the outputs see of a live frame (edge_app.live): the tracks in view on the FrameView, and each report as
an Event with its track's id, first sighting and the views behind it."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from .live import Report
from .outputs import Event, FrameView
from .regions import detection_region, in_frame
from .sources import Frame
from .tracks import Track


def show_tracks(view: FrameView, seen: list[Track], image: np.ndarray, latency: float) -> None:
    """Fill the view with the tracks seen in this frame; its reading is the surest track's (a reported one first)."""
    view.latency_ms = round(latency, 3)
    view.tracks = [{"id": tr.id, "box": in_frame(tr.box, image), "reading": _shown(tr).text if _shown(tr) else "",
                    "confidence": round(tr.reported.confidence, 4) if tr.reported else None,
                    "reported": tr.reported is not None} for tr in seen]
    view.passed = any(tr.reported is not None for tr in seen)
    best = max(seen, key=lambda tr: (tr.reported is not None, tr.score), default=None)
    if best is not None:
        view.region = [int(round(v)) for v in detection_region(best.box)]
        view.box = in_frame(best.box, image)
        shown = _shown(best)
        view.reading = shown.text if shown else ""
        view.confidence = round(shown.confidence, 4) if shown else None


def _shown(track: Track):
    """What a track says now: its report once there is one, else its latest view's own reading."""
    return track.reported or track.last_read


def track_event(report: Report, frame: Frame, source: str, model: str, others: list[str], latency: float) -> Event:
    """The Event of a report: the track's fused reading, box, id, first sighting and views fused; on "gone", the
    readings of the tracks still in view."""
    track, reading = report.track, report.reading
    return Event(
        time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"), source=source, frame=frame.index,
        file=frame.file, reading=reading.text, confidence=round(reading.confidence, 4),
        digit_confidences=[float(c) for c in reading.digit_confidences],
        roi=[int(round(v)) for v in detection_region(track.box)], latency_ms=round(latency, 3),
        box=in_frame(track.box, frame.image), box_confidence=round(track.score, 4), model=model,
        event=report.kind, track=track.id,
        first_seen=datetime.fromtimestamp(track.seen_at, timezone.utc).isoformat(timespec="milliseconds"),
        frames=track.evidence.views, in_view=others if report.kind == "gone" else None)
