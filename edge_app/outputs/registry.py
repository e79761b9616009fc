"""The one place outputs are built from the config: each kind has a key and decides from the config if it is on."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .annotate import AnnotateOutput
from .base import Output
from .console import ConsoleOutput
from .http import HttpOutput
from .jsonl import JsonlOutput
from .mqtt import MqttOutput
from .preview import PreviewOutput

if TYPE_CHECKING:
    from ..app import AppConfig

# In the order events reach them: the durable record first. A new output is one module plus one entry here.
KINDS: tuple[type[Output], ...] = (JsonlOutput, ConsoleOutput, AnnotateOutput, PreviewOutput, MqttOutput,
                                     HttpOutput)
REGISTRY: dict[str, type[Output]] = {kind.key: kind for kind in KINDS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every output's flags, declared by the output itself."""
    for kind in KINDS:
        kind.add_arguments(parser)


def build_outputs(cfg: AppConfig) -> list[Output]:
    """The outputs the config turns on; an OutputError (folder missing, port taken) closes those already built."""
    built: list[Output] = []
    try:
        for kind in KINDS:
            output = kind.from_config(cfg)
            if output is not None:
                built.append(output)
    except BaseException:
        for output in built:
            output.close()
        raise
    return built
