"""The fonts that house numbers are drawn in: matplotlib's bundled fonts plus small font packages from PyPI.

Each family is drawn equally often whatever its number of weights, and a face is used only if it
draws ten distinct, inked digits (so a font without digits never yields blank or .notdef boxes).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageChops, ImageDraw, ImageFont

DIGITS = "0123456789"

# matplotlib's fonts (DejaVu: Bitstream Vera licence; STIX: OFL 1.1; cm*: BaKoMa/Computer Modern
# licence), by family. Always present, so the generator works without the optional packages.
MATPLOTLIB_FAMILIES = {
    "DejaVu Sans": ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique"],
    "DejaVu Sans Mono": ["DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique"],
    "DejaVu Serif": ["DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic"],
    "STIX": ["STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta"],
    "Computer Modern": ["cmr10", "cmb10", "cmss10", "cmtt10"],
}

# PyPI packages of the pimoroni fonts-python kind (a `files/` folder of .ttf/.otf), listed in
# requirements-train.txt; licence in brackets. Missing ones are skipped.
FONT_PACKAGES = {
    "font_roboto": "Roboto",  # (Apache 2.0)
    "font_source_sans_pro": "Source Sans Pro",  # (OFL 1.1)
    "font_source_serif_pro": "Source Serif Pro",  # (OFL 1.1)
    "font_lato": "Lato",  # (OFL 1.1)
    "font_caladea": "Caladea",  # (Apache 2.0)
    "font_hanken_grotesk": "Hanken Grotesk",  # (OFL 1.1)
    "font_manrope": "Manrope",  # (OFL 1.1)
    "font_rhd": "Red Hat Display",  # (OFL 1.1)
    "font_fjallaone": "Fjalla One",  # (OFL 1.1), condensed
    "font_fredoka_one": "Fredoka One",  # (OFL 1.1), rounded
    "font_amatic_sc": "Amatic SC",  # (OFL 1.1), hand-drawn, narrow
    "font_intuitive": "Intuitive",  # (OFL 1.1), hand-drawn
}


class Face(NamedTuple):
    """One font file of a family."""

    family: str
    path: str


def _matplotlib_faces() -> list[Face]:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return [Face(fam, str(folder / f"{n}.ttf")) for fam, names in MATPLOTLIB_FAMILIES.items() for n in names]


def _package_faces() -> list[Face]:
    faces = []
    for package, family in FONT_PACKAGES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        files = Path(spec.origin).parent / "files"
        ttf = sorted(files.glob("*.ttf"))
        # Prefer .ttf; take .otf only where a package ships no .ttf of that face. Variable fonts
        # draw their default instance only, a duplicate of a static face.
        names = {p.stem for p in ttf}
        paths = ttf + [p for p in sorted(files.glob("*.otf")) if p.stem not in names]
        faces += [Face(family, str(p)) for p in paths if "Variable" not in p.stem]
    return faces


@lru_cache(maxsize=1024)
def load(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font at a pixel size, cached per process (loading is the slow part of drawing)."""
    return ImageFont.truetype(path, size)


def draws_digits(path: str) -> bool:
    """True if the font draws all ten digits, each with ink and no two alike."""
    try:
        font = load(path, 40)
    except OSError:
        return False
    glyphs = []
    for ch in DIGITS:
        im = Image.new("L", (80, 80))
        ImageDraw.Draw(im).text((10, 10), ch, font=font, fill=255)
        if im.getbbox() is None:
            return False
        glyphs.append(im)
    # A font without digits draws the same .notdef box for all ten.
    return all(ImageChops.difference(a, b).getbbox() for i, a in enumerate(glyphs) for b in glyphs[i + 1 :])


@lru_cache(maxsize=1)
def faces() -> tuple[Face, ...]:
    """Every usable face, in a fixed order (the same seed draws the same font on every run)."""
    found = [f for f in _matplotlib_faces() + _package_faces() if Path(f.path).is_file() and draws_digits(f.path)]
    if not found:
        raise RuntimeError("no font that draws digits was found (is matplotlib installed?)")
    return tuple(found)


@lru_cache(maxsize=1)
def families() -> tuple[tuple[Face, ...], ...]:
    """Usable faces grouped by family, families in first-seen order."""
    groups: dict[str, list[Face]] = {}
    for f in faces():
        groups.setdefault(f.family, []).append(f)
    return tuple(tuple(g) for g in groups.values())


@lru_cache(maxsize=256)
def digit_height_per_px(path: str) -> float:
    """Ink height of the digits per pixel of font size (about 0.7; varies by font)."""
    left, top, right, bottom = load(path, 100).getbbox(DIGITS)
    return (bottom - top) / 100.0
