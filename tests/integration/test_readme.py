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


def _layout_rows():
    """The README's layout table: first cell's backticked names -> the row's description."""
    rows = re.findall(r"^\| (`[^|]+`) \| (.+) \|$", README, flags=re.MULTILINE)
    return [(re.findall(r"`([^`]+)`", names), text) for names, text in rows]


def test_readme_layout_table_matches_the_tree():
    """Every module and package of skanogan/ has a row, every row's path exists, and the rows
    that list a model folder's files list exactly the files it has."""
    rows = _layout_rows()
    named = {name for names, _ in rows for name in names}
    for names, _ in rows:
        folder = Path(names[0]).parent
        for name in names:
            path = ROOT / (name if "/" in name else folder / name)
            assert path.exists(), f"README layout names {name}, which is not in the tree"
    entries = {
        path.name
        for path in (ROOT / "skanogan").iterdir()
        if path.name not in ("__pycache__", "__init__.py")
    }
    listed = {Path(name).parts[1] for name in named if name.startswith("skanogan/")}
    listed |= {name for name in named if "/" not in name}
    assert entries <= listed, f"no README row for {entries - listed}"
    for names, text in rows:
        if names[0] in ("skanogan/models/lran/", "skanogan/models/components/"):
            folder = ROOT / names[0]
            files = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
            assert set(re.findall(r"`(\w+\.py)`", text)) == files, names[0]
