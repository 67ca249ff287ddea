"""The documentation site builds offline with warnings as errors, and its first example runs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_site_builds_strictly_without_remote_assets(tmp_path):
    """mkdocs --strict succeeds and no page loads a script, style or font from another site."""
    pytest.importorskip("mkdocstrings", reason="the docs extra (mkdocs, mkdocstrings) is absent")
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 6
    remote = re.compile(r"<(?:link|script)[^>]+(?:href|src)=\"https?://")
    assert not [page for page in pages if remote.search(page.read_text())]
    api = (site / "api" / "index.html").read_text()
    assert "decision_function" in api and "one_class_split" in api


@pytest.mark.slow
def test_getting_started_example_runs(capsys):
    """The Python block of docs/index.md runs as written and finds digit 0's anomalies."""
    (example,) = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "index.md").read_text(), re.S)
    exec(compile(example, "docs/index.md", "exec"), {})
    auroc = float(re.search(r"AUROC (\S+)", capsys.readouterr().out).group(1))
    assert auroc > 0.9
