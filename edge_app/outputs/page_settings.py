"""The settings the status page may change: checked by each flag's own parser, applied at once where the frame loop
reads them every frame (the gate, the rate), else kept for the next start (the camera's), and saved to --config."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import App

log = logging.getLogger("edge_app")
SETTINGS = ("threshold", "fps", "tiles", "autofocus", "lens-position", "hflip", "vflip", "exposure-us", "gain",
            "brightness", "zoom")
LIVE = ("threshold", "fps")


def current(app: App) -> dict:
    """The settings as they stand (the gate as the app applies it)."""
    values = {key: getattr(app.cfg, key.replace("-", "_")) for key in SETTINGS}
    return {**values, "threshold": app.threshold}


def apply(app: App, values) -> tuple[int, dict]:
    """Check, apply and save a JSON object of settings; (HTTP status, JSON answer). Nothing changes on a bad one."""
    from ..__main__ import build_parser  # here, not at the top: the app's entry point imports the outputs
    from ..config import ConfigError, convert, save_keys

    if not isinstance(values, dict) or not values:
        return 400, {"error": "expected a JSON object of settings, e.g. {\"threshold\": 0.9}"}
    unknown = [k for k in values if k not in SETTINGS]
    if unknown:
        return 400, {"error": f"not settable here: {', '.join(map(str, unknown))} (these are: {', '.join(SETTINGS)})"}
    parser = build_parser()
    actions = {a.option_strings[0][2:]: a for a in parser._actions if a.option_strings}
    try:
        checked = {k: convert("the page", k, v, actions[k], parser) for k, v in values.items()}
    except ConfigError as err:
        return 400, {"error": str(err)}
    for key, value in checked.items():
        setattr(app.cfg, key.replace("-", "_"), value)
    if "threshold" in checked:
        app.threshold = checked["threshold"]
    log.info("settings from the page: %s", ", ".join(f"{k} = {v}" for k, v in checked.items()))
    answer = {"settings": current(app), "restart": [k for k in checked if k not in LIVE], "saved": False}
    if app.cfg.config is not None:
        try:
            save_keys(app.cfg.config, checked)
            answer.update(saved=True, config=str(app.cfg.config))
        except (OSError, ValueError) as err:
            answer["error"] = f"not saved to {app.cfg.config}: {getattr(err, 'strerror', None) or err}"
    return 200, answer
