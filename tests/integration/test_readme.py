"""The README's promises: its example runs, and CI runs its test command verbatim."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_exactly_two_setup_commands():
    """Two one-line bash commands: the demo and the test suite, each installing what it needs."""
    commands = [block.strip() for block in _blocks("bash")]
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    demo, tests = commands
    assert demo.endswith("skanogan demo") and tests.endswith("pytest")
    for command in commands:
        assert command.startswith("python3 -m venv .venv")
        # torch first and pinned, or pip pulls a multi-GB CUDA build on these machines.
        assert command.index("torch==2.13.0") < command.index('-e ".[')


def test_ci_runs_the_readme_test_command_verbatim():
    """.ci/run calls exactly the README's test command, then ruff."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _blocks("bash")[1].strip() in ci
    assert ".venv/bin/ruff check ." in ci


@pytest.mark.slow
def test_readme_example_runs(capsys):
    """The README's Python example runs as written and prints an AUROC well above chance."""
    (example,) = _blocks("python")
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    auroc = float(re.search(r"AUROC (\S+)", printed).group(1))
    assert auroc > 0.9, printed
