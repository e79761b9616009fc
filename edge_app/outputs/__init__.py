"""Where readings go: each output a module with one class, all built from the config by `registry.build_outputs`.

The frame loop hands every frame (`FrameView`) and every reported reading (`Event`) to a `Fanout` of outputs;
a failing output is logged and, by its own policy, retried or disabled, and never stops the loop.
"""

from .annotate import ROI_COLOUR, AnnotateOutput, annotate, annotate_view, save_annotated
from .base import Event, Fanout, FrameView, Output, OutputError
from .console import ConsoleOutput, format_console
from .jsonl import JsonlOutput, JsonlWriter
from .preview import PreviewOutput
from .registry import REGISTRY, build_outputs

__all__ = [
    "ROI_COLOUR", "REGISTRY", "AnnotateOutput", "ConsoleOutput", "Event", "Fanout", "FrameView", "JsonlOutput",
    "JsonlWriter", "Output", "OutputError", "PreviewOutput", "annotate", "annotate_view", "build_outputs",
    "format_console", "save_annotated",
]
