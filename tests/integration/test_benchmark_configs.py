"""skanogan's benchmark configs: stored parameters, the report's refusal, the legacy mapping of
skanogan 0.1.0's records, the summary that opens the page, and reproducing one recorded cell."""

import json
from pathlib import Path

import pytest

import skanogan
from benchmarks import runner
from benchmarks.__main__ import main
from benchmarks.configs import LEGACY_CONFIGS, LEGACY_VERSION, read_checked
from benchmarks.report import write_report
from benchmarks.reproduce import reproduce
from benchmarks.runner import Profile, read_results, run

SMALL = Profile(
    name="small",
    datasets=("digits",),
    classes={"digits": (0,)},
    seeds=(0,),
    detectors=("skanogan", "KNN"),
    n_train=40,
    n_test=60,
    settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
    ablations=(),
)


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[dict]:
    """One task's records: skanogan's defaults and paper's settings, every score type; KNN."""
    results = tmp_path_factory.mktemp("small") / "small.jsonl"
    run(SMALL, results, log=lambda _: None)
    return read_results(results)


@pytest.fixture(autouse=True)
def _small_profile(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "small", SMALL)


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _as_legacy(record: dict) -> dict:
    """``record`` as skanogan 0.1.0 wrote it: no parameters, the former config name."""
    legacy = {k: v for k, v in record.items() if k not in ("params", "defaults")}
    config = record["config"].replace("paper/", "full/")
    return {
        **legacy,
        "config": config,
        "environment": {**record["environment"], "skanogan": "0.1.0"},
    }


def test_checked_records_pass_and_a_wrong_parameter_is_refused(tmp_path, records):
    """Records as the runner writes them pass; a paper record with another w_adv is refused,
    naming the file, the line and the parameter."""
    good = _write(tmp_path / "good.jsonl", records)
    assert read_checked(good) == records
    line = next(i for i, r in enumerate(records) if r["config"] == "paper/image")
    bad = [dict(r) for r in records]
    bad[line] = {**bad[line], "params": {**bad[line]["params"], "w_adv": 1.0}}
    path = _write(tmp_path / "bad.jsonl", bad)
    with pytest.raises(
        ValueError, match=rf"bad.jsonl:{line + 1}: digits class 0 seed 0 paper/image"
    ):
        write_report([path], tmp_path / "report.md", plots=False)
    with pytest.raises(ValueError, match=r"w_adv=1.0 \(claimed 5.0\)"):
        read_checked(path)


def test_default_records_must_claim_this_versions_defaults(tmp_path, records):
    """A default/... record of this skanogan version built on other defaults is refused, even
    where its parameters match those defaults; another version's claimed defaults stand."""
    stale = []
    for r in records:
        if r["config"].startswith("default/"):
            defaults = {**r["defaults"], "w_irec": 123.0}
            r = {**r, "defaults": defaults, "params": {**r["params"], "w_irec": 123.0}}
        stale.append(r)
    path = _write(tmp_path / "stale.jsonl", stale)
    message = rf"its defaults are not skanogan {skanogan.__version__}'s: w_irec=123.0"
    with pytest.raises(ValueError, match=message):
        read_checked(path)
    older = [{**r, "environment": {**r["environment"], "skanogan": "0.1.5"}} for r in stale]
    assert len(read_checked(_write(tmp_path / "older.jsonl", older))) == len(records)
    # A record that states other profile settings than its profile's is refused too.
    other = [{**r, "settings": {**r["settings"], "epochs": 9}} for r in records]
    with pytest.raises(ValueError, match="are not the small profile's"):
        read_checked(_write(tmp_path / "other.jsonl", other))


def test_legacy_records_only_through_the_mapping(tmp_path, records, capsys):
    """skanogan 0.1.0's full/SCORE records are left out (with a warning) unless asked for; asked
    for, they are the paper row, labelled with their version, and a new record of the same cell
    replaces its legacy one. A parameterless record of another version is refused."""
    paper = [r for r in records if r["config"] in LEGACY_CONFIGS.values()]
    legacy = [_as_legacy(r) for r in paper]
    others = [r for r in records if r not in paper]
    path = _write(tmp_path / "legacy.jsonl", others + legacy)
    assert read_checked(path) == others
    assert f"{len(legacy)} skanogan {LEGACY_VERSION} records left out" in capsys.readouterr().err
    mapped = read_checked(path, legacy_paper_rows=True)
    assert {r["config"] for r in mapped if r.get("legacy")} == {r["config"] for r in paper}
    text = write_report([path], tmp_path / "r.md", plots=False, legacy_paper_rows=True)
    assert f"| skanogan paper (latent, skanogan {LEGACY_VERSION}) |" in text
    assert "`python -m benchmarks report --legacy-paper-rows`" in text
    # The paper's density scores still need a refit: the still-to-run section says so.
    assert f"skanogan {LEGACY_VERSION}'s records stand in for the paper's settings'" in text
    # A rerun of the cell under the new name wins over the legacy record.
    both = _write(tmp_path / "both.jsonl", records + legacy)
    assert read_checked(both, legacy_paper_rows=True) == records
    unknown = [{**legacy[0], "environment": {**legacy[0]["environment"], "skanogan": "0.3.0"}}]
    with pytest.raises(ValueError, match=r"unknown.jsonl:1: skanogan 0.3.0 record 'full/latent'"):
        read_checked(_write(tmp_path / "unknown.jsonl", unknown), legacy_paper_rows=True)


def test_the_page_opens_with_the_summary_and_its_figure(tmp_path, records):
    """The summary table comes before every file's section, skanogan's two rows first; its
    figure is written beside the per-dataset plots."""
    path = _write(tmp_path / "quality-small.jsonl", records)
    output = tmp_path / "docs" / "benchmarks.md"
    text = write_report([path], output)
    body = text.split("\n## ")
    assert body[1].startswith("Summary: mean AUROC per dataset and detector (`quality-small")
    table = [line for line in body[1].splitlines() if line.startswith("| ")]
    default = records[0]["defaults"]["score_type"]
    assert table[0] == "| detector | digits |"
    assert table[1].startswith(f"| skanogan default ({default}) | ")
    assert table[2].startswith("| skanogan paper (latent) | ") and table[3].startswith("| KNN |")
    assert body[2].startswith("Results of `quality-small.jsonl`")
    png = output.parent / "benchmarks" / "quality-small" / "summary.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "![summary](benchmarks/quality-small/summary.png)" in text


def test_targets_table_says_met_or_by_how_much_missed(tmp_path, records, monkeypatch):
    """Against each target: the default row, met (+gap) or missed by the gap, the best peer and
    skanogan's best row; only the paper profile's page carries the table."""
    from benchmarks import report

    auroc = report.aggregate(records)
    default = records[0]["defaults"]["score_type"]
    mean = auroc[("digits", "skanogan", f"default/{default}")]["mean"]
    monkeypatch.setattr(report, "TARGETS", {"digits": mean - 0.01})
    row = report._against_targets(records)[-2]
    assert row.startswith(f"| digits | {mean - 0.01:.3f} | {mean:.3f} ± 0.000 `default/{default}`")
    assert "| met (+0.010) | KNN " in row
    best = max((k for k in auroc if k[1] == "skanogan"), key=lambda k: auroc[k]["mean"])
    assert row.endswith(f"| `{best[2]}` {auroc[best]['mean']:.3f} ± 0.000 |")
    monkeypatch.setattr(report, "TARGETS", {"digits": mean + 0.25})
    assert "| **missed by 0.250** |" in report._against_targets(records)[-2]
    page = write_report([_write(tmp_path / "q.jsonl", records)], tmp_path / "b.md", plots=False)
    assert "Against the targets" not in page  # the small profile is not the paper's


def test_reproduce_refits_one_cell(tmp_path, records, capsys):
    """A cell refitted with the recorded settings gives the recorded AUROCs, for new records
    and for legacy ones read as the paper's settings; a changed AUROC is reported and exits 2."""
    paper = [r for r in records if r["config"] in LEGACY_CONFIGS.values()]
    path = _write(tmp_path / "legacy.jsonl", [_as_legacy(r) for r in paper])
    rows = reproduce(path, "digits", 0, 0, log=lambda _: None)
    assert {row["config"] for row in rows} == {
        r["config"].replace("paper/", "full/") for r in paper
    }
    assert all(row["same"] for row in rows)
    changed = [dict(r) for r in records]
    changed[0] = {**changed[0], "auroc": changed[0]["auroc"] - 0.01}
    path = _write(tmp_path / "changed.jsonl", changed)
    argv = ["reproduce", "--results", str(path), "--cell", "digits", "0", "0", "--weights"]
    assert main([*argv, "paper"]) == 0
    assert "reproduced: 5 record(s) within 1e-06" in capsys.readouterr().out
    assert main([*argv, "default"]) == 2
    captured = capsys.readouterr()
    assert f"{changed[0]['config']} (as {changed[0]['config']}): recorded" in captured.out
    assert "DIFFERS" in captured.out
    assert f"not reproduced within 1e-06: {changed[0]['config']} of digits 0 0" in captured.err
    assert main([*argv[:-4], "digits", "1", "0"]) == 2
    assert "has no skanogan record of digits 1 0" in capsys.readouterr().err
