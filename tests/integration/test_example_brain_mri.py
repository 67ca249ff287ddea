"""The brain MRI example runs end to end in quick mode and leaves its inputs untouched.

Reads the project's shared brain MRI folder (the ``shared_data_home`` fixture).
"""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_brain_mri_example_quick(tmp_path, shared_data_home):
    """--quick writes the CSV and both maps, prints the AUROC and changes no input."""
    pytest.importorskip("nibabel")
    brain_mri = shared_data_home / "brain_mri"
    before = _checksums(brain_mri)
    output = tmp_path / "out"
    command = [sys.executable, str(ROOT / "examples" / "brain_mri.py"), str(output)]
    command += ["--data-home", str(shared_data_home), "--quick"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "slicer_mrbraintumor2: slice AUROC" in done.stdout
    names = sorted(p.name for p in output.iterdir())
    assert names == [
        "slice_scores.csv",
        "slicer_mrbraintumor1_anomaly_map.nii.gz",
        "slicer_mrbraintumor2_anomaly_map.nii.gz",
    ]
    header = (output / "slice_scores.csv").read_text().splitlines()[0]
    assert header == "volume,slice,score,label,tumour"
    assert _checksums(brain_mri) == before

    again = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert again.returncode == 2 and "--overwrite" in again.stderr  # never overwrites silently
    inside = subprocess.run(
        [*command[:2], str(brain_mri / "out"), *command[3:]],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert inside.returncode == 2 and "inside the input folder" in inside.stderr
    assert not (brain_mri / "out").exists()
