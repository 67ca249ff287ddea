"""Every example runs end to end in quick mode (brain-MRI and Dask: in their own tests)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("pipeline_grid_search.py", "AUROC on the held-out half"),
        ("save_load_warm_start.py", "after 2 epochs: AUROC"),
        ("choosing_a_device.py", "cpu: 1 epochs"),
        ("digits_quality.py", "skanogan"),
    ],
)
def test_example_runs_quickly(script, expected, tmp_path):
    """The script exits 0 and prints its result."""
    arguments = {
        "save_load_warm_start.py": [str(tmp_path), "--quick"],
        "digits_quality.py": ["--seeds", "0", "--epochs", "1"],
    }.get(script, ["--quick"])
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert expected in run.stdout
    if script == "save_load_warm_start.py":
        pngs = sorted(p.name for p in tmp_path.glob("*.png"))
        assert pngs == ["reconstructions.png", "training_history.png"]
