"""The documentation cannot drift: references generated from the parsers, tables rendered from their JSON reports,
a site that builds with --strict, a short README, and a changelog that agrees with the version."""

import re
import subprocess
import sys

import pytest

from edge_app.__main__ import build_parser
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import render_docs  # noqa: E402


def test_the_references_and_tables_are_what_the_code_and_reports_say():
    proc = subprocess.run([sys.executable, "scripts/render_docs.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1500:]


def test_a_table_that_drifts_from_its_report_is_caught():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert render_docs.fill_tables(page) == page
    drifted = re.sub(r"\| `models/house_numbers.tflite` \| [0-9.]+%", "| `models/house_numbers.tflite` | 99.9%", page)
    assert drifted != page and render_docs.fill_tables(drifted) == page  # rendering puts the report's back
    readme = (ROOT / "README.md").read_text()
    drifted = re.sub(r"\| a live camera: (.*?) \| [0-9.]+% of clips", r"| a live camera: \1 | 99.9% of clips", readme)
    assert drifted != readme and render_docs.fill_tables(drifted) == readme


def test_a_reference_that_drifts_from_the_parser_is_caught():
    committed = (ROOT / "docs" / "reference" / "config.md").read_text()
    assert render_docs.config_reference() == committed
    assert render_docs.config_reference() != committed.replace("`--tiles`", "`--tile`")


def test_every_flag_and_config_key_of_the_app_is_documented():
    cli = (ROOT / "docs" / "reference" / "cli.md").read_text()
    config = (ROOT / "docs" / "reference" / "config.md").read_text()
    flags = [s for a in build_parser()._actions for s in a.option_strings if s.startswith("--")]
    assert len(flags) > 40
    assert [f for f in flags if f not in cli] == []
    firsts = [next(s for s in a.option_strings if s.startswith("--")) for a in build_parser()._actions
              if any(s.startswith("--") for s in a.option_strings)]  # --x/--no-x is one key, x
    keys = [f[2:] for f in firsts if f not in ("--help", "--config", "--version")]
    assert [k for k in keys if f"| `{k}` |" not in config] == []


def test_the_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300
    top = "\n".join(lines[:60])  # the set-up comes first
    assert "bash scripts/main.sh" in top and "bash scripts/test.sh" in top
    assert "non-commercial" in "\n".join(lines)


def test_the_site_builds_strict(tmp_path):
    mkdocs = pytest.importorskip("mkdocs")
    del mkdocs
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env={"NO_MKDOCS_2_WARNING": "1",
                                                                                          "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "reference" / "cli" / "index.html").is_file()


def test_the_changelog_names_the_version_the_package_reports():
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    top = re.search(r"^## (\S+) ", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    shown = subprocess.run([sys.executable, "-m", "edge_app", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert top == version and shown.stdout.split()[-1].split("+")[0] == version
