"""Where the edge app runs from: its version and the folder of shipped models, installed or in a source checkout.

`pip install .` puts the repo's models/ inside the package as edge_app/models/ (see setup.py); a source
checkout reads models/ beside edge_app/. Both layouts resolve here and nowhere else.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "house-numbers"
_HERE = Path(__file__).resolve().parent


def models_dir() -> Path:
    """The shipped models: edge_app/models when installed, else the checkout's models/."""
    installed = _HERE / "models"
    return installed if installed.is_dir() else _HERE.parent / "models"


def version() -> str:
    """The installed distribution's version; in a source checkout, pyproject's version marked +source."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
        # Only trust metadata that describes this very copy (a checkout may sit beside an installed wheel).
        if Path(dist.locate_file("edge_app/__init__.py")).resolve() == _HERE / "__init__.py":
            return dist.version
    except metadata.PackageNotFoundError:
        pass
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', (_HERE.parent / "pyproject.toml").read_text(), re.MULTILINE)
    except OSError:
        found = None
    return f"{found.group(1)}+source" if found else "unknown"
