"""The benchmark runner and report: cells, resuming, aggregation, the quick profile end to end."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.__main__ import main
from benchmarks.configs import ABLATIONS, default_score_type, json_params
from benchmarks.report import PAPER, aggregate, render, write_report
from benchmarks.runner import (
    PROFILES,
    Profile,
    load_task,
    plan,
    precision_name,
    read_results,
    run,
)
from skanogan import PAPER_SETTINGS, LatentRegularizedGAN
from skanogan.core._device import resolve_amp_dtype
from skanogan.scoring import SCORE_TYPES

ROOT = Path(__file__).resolve().parents[2]

TINY = Profile(
    name="tiny",
    datasets=("digits",),
    classes={"digits": (0, 1)},
    seeds=(0, 1),
    detectors=("skanogan", "KNN", "ECOD"),
    n_train=40,
    n_test=60,
    settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
    ablation_datasets=("digits",),
)
#: The score types of the loss ablation: the library's default score and the paper's latent one.
ABLATION_SCORES = tuple(dict.fromkeys((default_score_type(), "latent")))
#: skanogan's records of one task: its defaults and the paper's settings with every score type,
#: then the ablation's weight sets with ABLATION_SCORES.
SKANOGAN_CONFIGS = {
    *(f"{weights}/{score}" for weights in ("default", "paper") for score in SCORE_TYPES),
    *(f"{weights}/{score}" for weights in ABLATIONS for score in ABLATION_SCORES),
}


def test_plan_covers_every_cell_once():
    """skanogan fits its defaults, the paper's settings and each ablation weight set once per
    task; PyOD detectors fit once per task."""
    fits = list(plan(TINY))
    per_task = 2 + 3 + 2  # defaults, paper, three ablation weight sets; KNN, ECOD
    assert len(fits) == 2 * 2 * per_task
    main = [f for f in fits if f[3] == "skanogan" and f[4] in ("default", "paper")]
    assert len(main) == 2 * 2 * 2 and all(f[6] == tuple(SCORE_TYPES) for f in main)
    assert all(f[5] == {} for f in main if f[4] == "default")  # nothing but the defaults
    paper = {k: v for k, v in PAPER_SETTINGS.items() if k != "score_type"}
    assert all(f[5] == paper for f in main if f[4] == "paper")
    # The ablation switches terms off from the paper's settings, as the paper's does.
    ablation = [f for f in fits if f[4] in ABLATIONS]
    assert all(f[5] == {**paper, **ABLATIONS[f[4]]} for f in ablation)
    assert all(f[6] == ABLATION_SCORES for f in ablation)
    # The main table of every task comes before any ablation fit.
    is_ablation = [f[4] in ABLATIONS for f in fits]
    assert is_ablation == sorted(is_ablation) and sum(is_ablation) == 2 * 2 * 3


def test_ablation_profile_holds_mnists_loss_ablation_at_2000_normals():
    """MNIST's loss ablation lives in its own profile, beside the paper's settings at the same
    training size; the paper profile keeps only CIFAR-10's (on request)."""
    ablation = PROFILES["ablation"]
    fits = list(plan(ablation))
    assert ablation.n_train == 2000 and ablation.detectors == ("skanogan",)
    assert len(fits) == 10 * 3 * (1 + len(ABLATIONS))
    paper = [f for f in fits if f[4] == "paper"]
    assert len(paper) == 30 and all(f[6] == tuple(SCORE_TYPES) for f in paper)
    assert all(f[6] == ABLATION_SCORES for f in fits if f[4] in ABLATIONS)
    assert {f[4] for f in plan(PROFILES["paper"]) if f[4] in ABLATIONS and f[0] == "mnist"} == set()
    assert PROFILES["paper"].ablation_datasets == ("cifar10",)


def test_task_images_shrunk_by_area_mean():
    """image_size shrinks every image of a dataset by area averaging, train and test alike."""
    small = dataclasses.replace(TINY, image_size={"digits": 4})
    full, shrunk = load_task("digits", 3, 0, TINY, None), load_task("digits", 3, 0, small, None)
    assert shrunk.X_train.shape == (40, 1, 4, 4) and shrunk.X_test.shape[1:] == (1, 4, 4)
    assert shrunk.X_train.dtype == np.uint8
    block_mean = full.X_train.reshape(40, 1, 4, 2, 4, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(shrunk.X_train, block_mean, atol=0.5)


def test_task_is_identical_for_every_detector_and_subsampled():
    """load_task draws the same subsample for the same seed, and caps sizes."""
    first, second = (load_task("digits", 3, 0, TINY, None) for _ in range(2))
    np.testing.assert_array_equal(first.X_train, second.X_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert first.X_train.shape == (40, 1, 8, 8)
    assert abs(len(first.X_test) - 60) <= 1 and set(np.unique(first.y_test)) == {0, 1}
    other = load_task("digits", 3, 1, TINY, None)
    assert not np.array_equal(first.X_train, other.X_train)


def test_run_writes_records_and_resumes(tmp_path):
    """A run writes one record per cell; a rerun adds nothing; a torn last line is redone."""
    results = tmp_path / "results.jsonl"
    lines = []
    written = run(TINY, results, log=lines.append)
    records = read_results(results)
    # Per task: skanogan's configs, KNN, ECOD.
    assert written == len(records) == 2 * 2 * (len(SKANOGAN_CONFIGS) + 2)
    record = records[0]
    expected_keys = {"auroc", "ap", "fit_seconds", "score_seconds", "train_images_per_s"}
    expected_keys |= {"score_images_per_s", "peak_host_mib", "roc", "environment", "settings"}
    assert expected_keys <= set(record)
    assert 0 <= record["auroc"] <= 1 and record["peak_host_mib"] > 0
    assert {r["config"] for r in records if r["detector"] == "skanogan"} == SKANOGAN_CONFIGS
    assert {r["scoring"] for r in records if r["detector"] == "ECOD"} == {"per_sample"}
    assert len(lines) == 2 * 2 * (2 + 3 + 2)
    # skanogan's records store the model's parameters and the defaults they were built on;
    # "settings" holds the profile's stated overrides only.
    defaults = json_params(LatentRegularizedGAN().get_params())
    stated = {"image_shape", "epochs", "random_state", "device", "base_channels", "latent_dim"}
    for r in records:
        assert r["settings"] == TINY.settings
        if r["detector"] != "skanogan":
            assert "params" not in r and "precision" not in r
            continue
        # What amp="auto" trains in on this CPU.
        assert r["precision"] == precision_name(resolve_amp_dtype("auto", torch.device("cpu")))
        weights, score = r["config"].split("/")
        params = r["params"]
        assert r["defaults"] == defaults and params["score_type"] == score
        assert (params["epochs"], params["base_channels"], params["random_state"]) == (
            1,
            4,
            r["seed"],
        )
        claimed = {} if weights == "default" else {**PAPER_SETTINGS, **ABLATIONS.get(weights, {})}
        assert all(params[k] == v for k, v in claimed.items() if k != "score_type")
        unclaimed = set(params) - stated - set(claimed) - {"score_type"}
        assert all(params[k] == defaults[k] for k in unclaimed)

    assert run(TINY, results) == 0
    text = results.read_text().splitlines()
    results.write_text("\n".join(text[:-1]) + "\n" + text[-1][:20])
    assert run(TINY, results, log=lambda _: None) == 1
    assert len(read_results(results)) == len(records)


def test_aggregate_means_over_classes_then_seeds():
    """mean ± std is over seeds of the per-seed mean over classes; gaps mark a row incomplete."""
    records = [
        {"dataset": "d", "detector": "x", "config": "default", "seed": s, "class": c, "auroc": v}
        for s, c, v in [(0, 0, 0.6), (0, 1, 0.8), (1, 0, 0.8), (1, 1, 1.0)]
    ]
    cell = aggregate(records)[("d", "x", "default")]
    assert cell["mean"] == pytest.approx(0.8) and cell["std"] == pytest.approx(0.1)
    assert cell["classes"] == {0: pytest.approx(0.7), 1: pytest.approx(0.9)}
    assert cell["complete"]
    assert not aggregate(records[:3])[("d", "x", "default")]["complete"]
    # A row with every seed of its own but fewer classes than another row is incomplete too.
    other = {"dataset": "d", "detector": "y", "config": "default", "seed": 0, "class": 0}
    partial = [other, {**other, "seed": 1}]
    table = aggregate([*records, *({**r, "auroc": 0.5} for r in partial)])
    assert table[("d", "x", "default")]["complete"]
    assert not table[("d", "y", "default")]["complete"]


def test_paper_table_is_parsed_as_printed():
    """The paper's Table 1 rows keep their names and eleven figures (ten digits and the mean)."""
    row, values = PAPER["per_class"]["mnist"]["skanogan"]
    assert row == "Proposed-method" and len(values) == 11 and values[-1] == 0.9310
    assert PAPER["per_class"]["mnist"]["DeepSVDD"][0] == "DSVDD"
    for rows in PAPER["per_class"].values():
        for _, values in rows.values():  # the printed mean is the mean of the printed classes
            assert abs(np.mean(values[:10]) - values[10]) < 6e-4


def test_report_renders_tables_and_plots(tmp_path):
    """write_report makes the quality, ablation and cost tables and one PNG per dataset."""
    results = tmp_path / "results.jsonl"
    run(TINY, results, log=lambda _: None)
    text = write_report([results], tmp_path / "docs" / "benchmarks.md")
    assert "### digits: AUROC per normal class" in text
    assert "| L_irec + L_adv + L_zrec + L_rank | paper/image |" in text
    assert "| the library's defaults | default/residual_density |" in text
    assert "### Cost per task" in text and "| ECOD | " in text and "| per_sample |" in text
    png = tmp_path / "docs" / "benchmarks" / "results" / "digits.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert render([]).startswith("No results yet")


def test_report_compares_with_the_paper_on_the_same_cells(tmp_path):
    """An ablation row missing cells is set beside the full model on its own cells; complete
    MNIST rows that the paper also has get a sentence with both means and the difference."""
    results = tmp_path / "results.jsonl"
    run(TINY, results, log=lambda _: None)
    records = [{**r, "dataset": "mnist"} for r in read_results(results)]
    records = [r for r in records if not (r["config"] == "irec_adv/latent" and r["class"] == 1)]
    text = render(records)
    full = {(r["class"], r["seed"]): r["auroc"] for r in records if r["config"] == "paper/latent"}
    per_seed = [full[(0, seed)] for seed in TINY.seeds]
    paired = f"[paper: {np.mean(per_seed):.3f} ± {np.std(per_seed):.3f}]"
    irec_adv = next(line for line in text.splitlines() if "| irec_adv/latent |" in line)
    assert "(incomplete)" in irec_adv and paired in irec_adv
    zrec = next(line for line in text.splitlines() if "| irec_adv_zrec/latent |" in line)
    assert "[paper:" not in zrec  # covers every cell of the paper's settings
    ours = np.mean([np.mean([full[(c, seed)] for c in (0, 1)]) for seed in TINY.seeds])
    paper = np.mean(PAPER["per_class"]["mnist"]["skanogan"][1][:2])  # its digits 0 and 1
    assert "from the paper's (classes [0, 1], the paper's figures over them)" in text
    assert (
        f"skanogan {ours:.3f} against the paper's {paper:.3f} for Proposed-method "
        f"({ours - paper:+.3f})" in text
    )


@pytest.mark.slow
def test_quick_profile_end_to_end_on_tiny_settings(tmp_path, shared_data_home):
    """The quick profile's datasets, classes and detectors run through the CLI, shrunk."""
    quick = PROFILES["quick"]
    # Another name: records of the "quick" profile with other settings would be refused.
    shrunk = dataclasses.replace(
        quick,
        name="quick-shrunk",
        n_train=30,
        n_test=40,
        settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
    )
    results = tmp_path / "quick.jsonl"
    assert run(shrunk, results, data_home=str(shared_data_home), log=lambda _: None) > 0
    detectors = {r["detector"] for r in read_results(results)}
    assert detectors == set(quick.detectors)
    report = subprocess.run(
        [sys.executable, "-m", "benchmarks", "report", "--results", str(results),
         "--output", str(tmp_path / "benchmarks.md")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "benchmarks.md").read_text()
    assert "### mnist: AUROC per normal class" in text and "*paper's DSVDD (DeepSVDD)*" in text


@pytest.mark.slow
def test_benchmark_cli_errors_are_one_line(tmp_path):
    """A missing results file or missing data is a one-line error with exit code 2."""
    missing = subprocess.run(
        [sys.executable, "-m", "benchmarks", "report", "--results",
         str(tmp_path / "none.jsonl")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert missing.returncode == 2 and "no results file" in missing.stderr
    suite = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--suite", "mri",
         "--data-home", str(tmp_path), "--results", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert suite.returncode == 2 and "brain_mri" in suite.stderr
    assert len(suite.stderr.strip().splitlines()) == 1 and "Traceback" not in suite.stderr
    assert not (tmp_path / "r.jsonl").exists()


def _write_cifar_pickles(home: Path) -> None:
    """The CIFAR-10 python pickles, 20 random images per batch, labels cycling through 0–9."""
    import pickle

    folder = home / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
                 b"labels": [i % 10 for i in range(20)]}  # fmt: skip
        (folder / name).write_bytes(pickle.dumps(batch))


def test_cifar10_tasks_come_from_the_original_pickles(tmp_path):
    """A user's cifar-10-batches-py folder feeds the runner: channels-first 3×32×32 tasks."""
    _write_cifar_pickles(tmp_path)
    task = load_task("cifar10", 3, 0, TINY, str(tmp_path))
    assert task.X_train.shape == (10, 3, 32, 32) and task.X_test.shape[1:] == (3, 32, 32)
    assert set(np.unique(task.y_test)) == {0, 1}


def test_a_test_only_sample_is_refused_by_the_runner(tmp_path):
    """The 20-image CIFAR-10 sample (no training split) is a clear error, not an empty task."""
    folder = tmp_path / "cifar10_samples"
    folder.mkdir()
    images = np.zeros((20, 32, 32, 3), np.uint8)
    np.savez(folder / "cifar10_test_first20.npz", x_test=images, y_test=np.arange(20) % 10)
    with pytest.raises(ValueError, match=r"has test images only .*fetch_cifar10"):
        load_task("cifar10", 0, 0, TINY, str(tmp_path))


def test_cifar10_runs_on_request_beside_the_papers_tables(tmp_path, monkeypatch):
    """An on-request data set runs only when named with --datasets; CIFAR-10's tables carry
    the paper's Table 2 rows and its CIFAR-10 column of Tables 3 and 6."""
    from benchmarks import runner

    _write_cifar_pickles(tmp_path)
    tiny = dataclasses.replace(
        TINY,
        detectors=("skanogan", "KNN"),
        classes={"digits": (0,), "cifar10": (0, 1)},
        seeds=(0,),
        ablation_datasets=("cifar10",),
        ablations=("irec_adv_zrec",),
        on_request=("cifar10",),
    )
    monkeypatch.setitem(runner.PROFILES, "quick", tiny)
    results = tmp_path / "r.jsonl"
    argv = ["run", "--results", str(results), "--quiet", "--data-home"]
    assert main([*argv, str(tmp_path)]) == 0
    assert {r["dataset"] for r in read_results(results)} == {"digits"}
    text = render([{**r, "profile": "quick"} for r in read_results(results)])
    assert "Not counted: cifar10, run only on request (`--datasets cifar10`" in text
    assert main([*argv, str(tmp_path), "--datasets", "cifar10"]) == 0
    records = read_results(results)
    configs = {"default"} | {c for c in SKANOGAN_CONFIGS if c.split("/")[0] in (
        "default", "paper", "irec_adv_zrec")}  # fmt: skip
    assert {(r["dataset"], r["config"]) for r in records if r["class"] == 1} == {
        ("cifar10", config) for config in configs
    }
    sections = {part.split("\n")[0]: part for part in render(records).split("### ")}
    cifar = sections["cifar10: AUROC per normal class"]
    assert "| *paper's DSVDD (DeepSVDD)* | *0.648* | | | *0.617* | *0.659* |" in cifar
    assert "*paper's" not in sections["digits: AUROC per normal class"]
    ablation = next(part for title, part in sections.items() if title.startswith("Loss ablation"))
    # digits has a column too: its score types other than the main rows' are there.
    assert "| terms | config | cifar10 | paper, CIFAR-10 | digits |" in ablation
    zrec = next(line for line in ablation.splitlines() if "| irec_adv_zrec/latent |" in line)
    assert zrec.split(" | ")[3:] == ["*0.478*", " |"]  # no ablation on digits
    image = next(line for line in ablation.splitlines() if "| paper/image |" in line)
    assert image.split(" | ")[3] == "*0.617*"


def test_cli_detectors_option_runs_only_those(tmp_path, monkeypatch, capsys):
    """--detectors / --datasets split a profile: only the named cells are run and written."""
    from benchmarks import runner

    monkeypatch.setitem(runner.PROFILES, "quick", TINY)
    results = tmp_path / "part.jsonl"
    argv = ["run", "--results", str(results), "--quiet", "--detectors", "ECOD", "KNN"]
    assert main(argv) == 0
    records = read_results(results)
    assert {r["detector"] for r in records} == {"KNN", "ECOD"} and len(records) == 2 * 2 * 2
    assert main([*argv[:-2], "bogus"]) == 2
    assert "bogus not in the tiny profile" in capsys.readouterr().err
    assert main(["run", "--suite", "speed", "--detectors", "KNN"]) == 2
    assert "quality suite only" in capsys.readouterr().err
    assert main(["run", "--profile", "bogus", "--results", str(results)]) == 2
    assert "--profile must be one of quick, paper, ablation for the quality suite" in (
        capsys.readouterr().err
    )
    assert main([*argv, "--datasets", "mnist"]) == 2
    assert "--datasets: mnist not in the tiny profile (its datasets: digits)" in (
        capsys.readouterr().err
    )
    assert main([*argv, "--datasets", "digits"]) == 0  # everything already there
    assert len(read_results(results)) == 2 * 2 * 2


def test_cli_ablations_option_fits_only_those_weight_sets(tmp_path, monkeypatch, capsys):
    """--ablations keeps the main table and only the named weight sets of the loss ablation."""
    from benchmarks import runner

    tiny = dataclasses.replace(TINY, detectors=("skanogan",), classes={"digits": (0,)}, seeds=(0,))
    monkeypatch.setitem(runner.PROFILES, "quick", tiny)
    results = tmp_path / "part.jsonl"
    argv = ["run", "--results", str(results), "--quiet", "--ablations"]
    assert main([*argv, "irec_adv_zrec"]) == 0
    configs = {r["config"] for r in read_results(results)}
    assert configs == {
        c for c in SKANOGAN_CONFIGS if not c.startswith(("irec_adv/", "irec_adv_rank/"))
    }
    assert main([*argv, "no_rank"]) == 2
    assert "--ablations: no_rank not in the tiny profile" in capsys.readouterr().err
    # --weights keeps only the named main weight sets of skanogan.
    other = tmp_path / "default-only.jsonl"
    argv = ["run", "--results", str(other), "--quiet", "--ablations", "irec_adv"]
    assert main([*argv, "--weights", "default"]) == 0
    configs = {r["config"] for r in read_results(other)}
    assert configs == {c for c in SKANOGAN_CONFIGS if c.startswith(("default/", "irec_adv/"))}
    # --ablations naming none leaves out the loss ablation.
    argv = ["run", "--results", str(tmp_path / "main.jsonl"), "--quiet", "--ablations"]
    assert main([*argv, "--weights", "paper"]) == 0
    configs = {r["config"] for r in read_results(tmp_path / "main.jsonl")}
    assert configs == {c for c in SKANOGAN_CONFIGS if c.startswith("paper/")}
    # --weights naming none leaves out skanogan's main table: only the named ablation is fitted.
    argv = ["run", "--results", str(tmp_path / "ablation.jsonl"), "--quiet", "--weights"]
    assert main([*argv, "--ablations", "irec_adv"]) == 0
    configs = {r["config"] for r in read_results(tmp_path / "ablation.jsonl")}
    assert configs == {c for c in SKANOGAN_CONFIGS if c.startswith("irec_adv/")}


def test_report_names_the_detectors_of_each_environment(tmp_path):
    """Records written under different settings (e.g. torch threads) are labelled by detector."""
    results = tmp_path / "tiny.jsonl"
    run(TINY, results, log=lambda _: None)
    records = read_results(results)
    for record in records:
        if record["detector"] == "KNN":
            threads = record["environment"]["torch_threads"] + 1
            record["environment"] = {**record["environment"], "torch_threads": threads}
    text = render(records, "tiny.jsonl")
    lines = [line for line in text.splitlines() if line.startswith("- Environment")]
    assert len(lines) == 2
    assert any(
        line.startswith("- Environment (KNN):") and f"torch_threads {threads}" in line
        for line in lines
    )
    assert any(line.startswith("- Environment (ECOD, skanogan):") for line in lines)
    single = render([r for r in records if r["detector"] != "KNN"], "tiny.jsonl")
    assert "- Environment: " in single
    # Fit times under different thread counts are averaged apart in the cost table.
    for record in records:
        if record["detector"] == "ECOD" and record["seed"] == 0:
            record["environment"] = {**record["environment"], "torch_threads": threads}
    cost = render(records, "tiny.jsonl").split("### Cost per task")[1]
    ecod = [line for line in cost.splitlines() if "| ECOD |" in line]
    assert len(ecod) == 2 and f"| ECOD | {threads} | – | 2 |" in "".join(ecod)
    # So are skanogan's fits in another precision.
    for record in records:
        if record["detector"] == "skanogan" and record["seed"] == 0:
            record["precision"] = "bfloat16" if record["precision"] == "float32" else "float32"
    cost = render(records, "tiny.jsonl").split("### Cost per task")[1]
    assert {"float32", "bfloat16"} <= {
        line.split(" | ")[3] for line in cost.splitlines() if "| skanogan " in line
    }


def test_report_states_what_remains_and_the_command(tmp_path, monkeypatch):
    """Cells of the profile missing from the file are counted per dataset and detector."""
    from benchmarks import report

    monkeypatch.setitem(report.PROFILES, "tiny", TINY)
    results = tmp_path / "tiny.jsonl"
    run(dataclasses.replace(TINY, detectors=("KNN",)), results, log=lambda _: None)
    text = render(read_results(results), "tiny.jsonl")
    assert "### Still to run (profile `tiny`)" in text
    # 2 classes x 2 seeds of skanogan (defaults, paper, 3 ablation sets) and ECOD; KNN is done.
    assert "24 fits (class × seed)" in text and "KNN" not in text.split("### Still to run")[1]
    assert "digits: skanogan default 4, skanogan paper 4, ECOD 4, skanogan irec_adv 4" in text
    assert "`python -m benchmarks run --suite quality --profile tiny`" in text
    run(TINY, results, log=lambda _: None)
    assert "### Still to run" not in render(read_results(results), "tiny.jsonl")


@pytest.mark.parametrize("reconstruction", [0.7, 0.4])
def test_report_renders_the_below_chance_diagnosis(tmp_path, reconstruction):
    """A below-chance record becomes its own section; the explanation only when data bear it."""
    entry = {
        "auroc_pyod": 0.2,
        "auroc_features_l1": 0.3,
        "auroc_reconstruction": reconstruction,
        "d_real_normal": 0.9,
        "d_real_anomalous": 0.6,
        "d_reconstructed_normal": 0.1,
        "d_reconstructed_anomalous": 0.05,
    }
    record = {
        "suite": "below_chance",
        "profile": "paper",
        "seed": 0,
        "command": "python -m skanogan.benchmark.below_chance",  # the harness's former home
        "environment": {"torch": "2.x"},
        "alad_mnist": [{"class": 0, **entry}, {"class": 1, **entry, "auroc_pyod": 0.4}],
        "vae_elpv": {
            "auroc_vae": 0.36,
            "auroc_brightness": 0.31,
            "spearman_vae_brightness": 0.93,
        },
    }
    path = tmp_path / "below-chance.json"
    path.write_text(json.dumps(record))
    text = write_report([path], tmp_path / "report.md", plots=False)
    assert "## Rows below chance: ALAD and VAE" in text
    assert "Refitted by `python -m benchmarks.below_chance`" in text  # how it reruns today
    assert "| 0.300 |" in text  # PyOD's score, mean over the two classes
    assert "0.310 (below 0.5: defective cells are darker)" in text
    assert ("not from a sign in our adapter" in text) == (reconstruction > 0.5)


def test_report_refuses_a_json_file_it_cannot_render(tmp_path):
    """A JSON file that is neither a speed nor a below-chance record (the fit-cost check's, say)
    is a ValueError naming it, not a KeyError from the speed tables."""
    path = tmp_path / "fit-cost.json"
    path.write_text(json.dumps({"profile": "paper", "ratio": 1.03}))
    with pytest.raises(ValueError, match=r"fit-cost\.json is not a results file of the report"):
        write_report([path], tmp_path / "report.md", plots=False)
    assert not (tmp_path / "report.md").exists()


def test_report_reads_the_paper_profile_first_and_leaves_out_other_tables(tmp_path):
    """By default the page reads the quality paper profile and its diagnosis first, then the
    other results by name; the validation sweep and the fit-cost check are not its tables."""
    from benchmarks.__main__ import report_inputs

    names = [
        "mri-paper.jsonl",
        "quality-ablation.jsonl",
        "quality-paper-below-chance.json",
        "quality-paper.jsonl",
        "quality-quick.jsonl",
        "speed-quick.json",
        "validation.jsonl",
        "fit-cost.json",
    ]
    for name in names:
        (tmp_path / name).write_text("")
    assert [p.name for p in report_inputs(tmp_path)] == [
        "quality-paper.jsonl",
        "quality-paper-below-chance.json",
        "quality-ablation.jsonl",
        "quality-quick.jsonl",
        "mri-paper.jsonl",
        "speed-quick.json",
    ]


def test_merge_appends_the_records_of_split_runs_once(tmp_path, capsys):
    """merge joins the results files of a split profile (quality and MRI records alike), skips
    what the target already holds, copies each part's montages without overwriting, and
    refuses a missing part or the target named as a part."""

    def record(fold, config, seed=0):
        return {"suite": "mri-synthetic", "dataset": "brain_mri_synthetic", "fold": fold,
                "detector": "skanogan", "config": config, "seed": seed}  # fmt: skip

    quality = {"dataset": "digits", "class": 3, "detector": "KNN", "config": "default", "seed": 0}
    parts = [tmp_path / "out-a.jsonl", tmp_path / "out-b.jsonl"]
    parts[0].write_text("".join(json.dumps(r) + "\n" for r in [record("a", "x"), quality]))
    parts[1].write_text("".join(json.dumps(r) + "\n" for r in [record("b", "x"), record("b", "y")]))
    (tmp_path / "out-a").mkdir()
    (tmp_path / "out-a" / "a.png").write_bytes(b"part a")
    (tmp_path / "out-a" / "kept.png").write_bytes(b"part")
    results = tmp_path / "results" / "merged.jsonl"
    (tmp_path / "results" / "merged").mkdir(parents=True)
    (tmp_path / "results" / "merged" / "kept.png").write_bytes(b"already there")
    results.write_text(json.dumps(record("b", "y")) + "\n")

    argv = ["merge", *map(str, parts), "--results", str(results)]
    assert main(argv) == 0
    assert "3 record(s) appended" in capsys.readouterr().out
    merged = read_results(results)
    assert len(merged) == 4 and merged[0] == record("b", "y")
    assert {(r.get("fold"), r["config"]) for r in merged} == {
        ("a", "x"), ("b", "x"), ("b", "y"), (None, "default")
    }  # fmt: skip
    assert (tmp_path / "results" / "merged" / "a.png").read_bytes() == b"part a"
    assert (tmp_path / "results" / "merged" / "kept.png").read_bytes() == b"already there"
    # A second merge writes nothing: every record is there.
    assert main(argv) == 0
    assert "0 record(s) appended" in capsys.readouterr().out and len(read_results(results)) == 4

    assert main(["merge", str(tmp_path / "none.jsonl"), "--results", str(results)]) == 2
    assert "no results file at" in capsys.readouterr().err
    assert main(["merge", str(results), "--results", str(results)]) == 2
    assert "is the file merged into" in capsys.readouterr().err
    assert len(read_results(results)) == 4


def test_an_unknown_mri_profile_is_refused_naming_the_profiles(tmp_path, capsys):
    """The mri suite's profile table answers (its smoke profile included); speed has none."""
    results = tmp_path / "r.jsonl"
    assert main(["run", "--suite", "mri", "--profile", "bogus", "--results", str(results)]) == 2
    error = capsys.readouterr().err
    assert "--profile must be one of quick, paper, smoke for the mri suite" in error
    assert main(["run", "--suite", "speed", "--profile", "bogus"]) == 2
    assert "--profile must be quick or paper" in capsys.readouterr().err
    assert not results.exists()
