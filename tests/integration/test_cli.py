"""The ``skanogan`` command line, run as a subprocess."""

import subprocess
import sys

import pytest
import torch


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "skanogan.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow
def test_demo_prints_table_and_never_overwrites_its_plot(tmp_path):
    """demo prints AUROC/AP for skanogan and PyOD, writes a plot, and a rerun picks a new name."""
    plot = tmp_path / "demo.png"
    plot.write_bytes(b"user file")
    first = _run("demo", "--epochs", "1", "--quiet", "--output", str(plot))
    assert first.returncode == 0, first.stderr
    assert "| skanogan |" in first.stdout and "| PyOD KNN |" in first.stdout
    # Every digit by default, with the mean over them: no single easy digit.
    assert "| detector | mean AUROC | mean AP | digit 0 |" in first.stdout
    assert "digit 9 |" in first.stdout
    assert plot.read_bytes() == b"user file"
    written = tmp_path / "demo-1.png"
    assert f"plot written to {written}" in first.stdout
    assert written.read_bytes().startswith(b"\x89PNG")
    second = _run("demo", "--digit", "4", "--epochs", "1", "--quiet", "--output", str(plot))
    assert (tmp_path / "demo-2.png").exists() and second.returncode == 0
    assert "digit 4 normal" in second.stdout and "digit 5 |" not in second.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_user_error_is_one_line_and_exit_code_2():
    """A bad device is one line on stderr and exit code 2, no traceback."""
    result = _run("demo", "--epochs", "1", "--no-plot", "--device", "cuda")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "CUDA is not available" in result.stderr
    assert "Traceback" not in result.stderr


def test_benchmark_command_points_to_the_harness_in_the_repository():
    """The harness left the installed package: `skanogan benchmark` says where it went."""
    result = _run("benchmark", "run", "--suite", "quality", "--profile", "quick")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "python -m benchmarks" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_reports_versions_and_devices():
    """info prints the versions and the devices seen."""
    result = _run("info")
    assert result.returncode == 0
    assert "skanogan " in result.stdout and f"torch {torch.__version__}" in result.stdout
    assert "devices: cpu" in result.stdout
    assert "optional packages: " in result.stdout and "data home: " in result.stdout


def test_info_reports_the_data_found(tmp_path):
    """info tries each loader on --data-home and says what is there and what is not."""
    (tmp_path / "brain_mri").mkdir()
    (tmp_path / "brain_mri" / "head.nii.gz").write_bytes(b"")
    result = _run("info", "--data-home", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"data home: {tmp_path}" in result.stdout
    assert "  mnist: not found" in result.stdout and "  brain_mri: 1 NIfTI files" in result.stdout


@pytest.mark.slow
def test_info_reports_the_shared_data(shared_data_home):
    """On the project's real data, info finds MNIST's test images and ELPV."""
    shared = _run("info", "--data-home", str(shared_data_home)).stdout
    assert "  mnist: found (10000 test images)" in shared
    assert "  elpv: found (2624 images)" in shared


@pytest.mark.parametrize("command", [["fit"], ["score"], ["mri", "fit"], ["mri", "score"]])
def test_help_of_fit_and_score_commands(command, capsys):
    """Each fit/score command has --help naming its output option and --overwrite."""
    from skanogan.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "-o" in text and "--overwrite" in text
