"""Tests of the brain-MRI benchmark: patient-level splits, bootstrap intervals, runner, report.

The end-to-end test reads the project's shared brain MRI folder and is skipped when it is absent.
"""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks.configs import library_defaults
from benchmarks.mri import (
    BASELINE,
    HEALTHY,
    PATIENTS,
    TEMPLATES,
    UNMASKED,
    Fold,
    MRIProfile,
    _weighted_ap,
    _weighted_auroc,
    bootstrap_ci,
    patient_folds,
    run_mri,
    run_mri_profile,
    split_slices,
)
from benchmarks.runner import read_results
from skanogan.scoring import SCORE_TYPES


def _table() -> dict[str, np.ndarray]:
    """A slice table of every benchmark volume: 4 slices each, patients' slice 1 has tumour."""
    ids = [*HEALTHY, *TEMPLATES, *PATIENTS, *UNMASKED]
    volume_id = np.repeat(ids, 4)
    tumour = np.array([[0, 30, 3, 0] if i in PATIENTS else [0, 0, 0, 0] for i in ids]).ravel()
    return {"volume_id": volume_id, "tumour_voxels": tumour}


def test_patient_folds_hold_out_one_patient_and_one_healthy_head():
    """Each fold trains on neither its patient, its healthy head nor the unmasked patient."""
    folds = patient_folds()
    assert sorted(f.patient for f in folds) == sorted(PATIENTS)
    assert sorted(f.healthy_holdout for f in folds) == sorted(HEALTHY)
    for fold in folds:
        held_out = {fold.patient, fold.healthy_holdout, *UNMASKED}
        assert not held_out & set(fold.train_volumes)
        assert set(TEMPLATES) <= set(fold.train_volumes)
        assert set(fold.train_patients) == set(PATIENTS) - {fold.patient}


def test_split_slices_is_patient_level():
    """No slice of a held-out volume is trained on; training patients give tumour-free slices."""
    table = _table()
    for fold in patient_folds():
        parts = split_slices(table, fold)
        train_ids = set(table["volume_id"][parts["train"]])
        assert fold.patient not in train_ids
        assert fold.healthy_holdout not in train_ids
        assert not train_ids & set(UNMASKED)
        assert (table["tumour_voxels"][parts["train"]] == 0).all()
        assert set(table["volume_id"][parts["test"]]) == {fold.patient}
        assert len(parts["test"]) == 4  # every slice of the patient, tumour or not
        assert set(table["volume_id"][parts["healthy"]]) == {fold.healthy_holdout}
        for disjoint in ("test", "healthy", "unmasked"):
            assert not set(parts["train"]) & set(parts[disjoint])


def test_split_slices_refuses_a_leaking_fold():
    """A fold whose held-out patient is also a training volume raises."""
    fold = Fold("pyradiomics_brain1", "colin27_t1", ("pyradiomics_brain1", *TEMPLATES))
    with pytest.raises(ValueError, match="in training"):
        split_slices(_table(), fold)


@pytest.mark.parametrize("metric", ["auroc", "ap"])
def test_weighted_metrics_match_scikit_learn(metric):
    """With unit weights, and with resampled weights, the vectorised metrics equal sklearn's."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30, int), np.ones(8, int)]
    scores = np.round(rng.normal(size=38) + y, 1)  # rounding makes ties
    reference = roc_auc_score if metric == "auroc" else average_precision_score
    weighted = _weighted_auroc if metric == "auroc" else _weighted_ap
    counts = rng.multinomial(38, np.full(38, 1 / 38), 3).astype(float)
    counts[:, [0, 30]] += 1  # keep both classes present
    got = weighted(y, scores, np.vstack([np.ones(38), counts]))
    expected = [reference(y, scores)] + [
        reference(np.repeat(y, c.astype(int)), np.repeat(scores, c.astype(int))) for c in counts
    ]
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("metric", ["auroc", "ap"])
def test_bootstrap_ci_contains_estimate_and_narrows_with_more_slices(metric):
    """The interval holds the point estimate and is much narrower for 40x the slices."""
    rng = np.random.default_rng(1)
    widths = []
    for n_neg, n_pos in [(40, 5), (1600, 200)]:
        y = np.r_[np.zeros(n_neg, int), np.ones(n_pos, int)]
        scores = rng.normal(size=n_neg + n_pos) + 1.0 * y
        point = (roc_auc_score if metric == "auroc" else average_precision_score)(y, scores)
        low, high = bootstrap_ci(y, scores, metric=metric, n_resamples=500, random_state=0)
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < 0.5 * widths[0]


def test_bootstrap_ci_is_seeded_and_averages_runs():
    """Same seed, same interval; two identical runs give the interval of one."""
    y = np.r_[np.zeros(20, int), np.ones(5, int)]
    scores = np.linspace(0, 1, 25) + 0.3 * y
    once = bootstrap_ci(y, scores, n_resamples=200, random_state=3)
    assert once == bootstrap_ci(y, scores, n_resamples=200, random_state=3)
    assert once == pytest.approx(
        bootstrap_ci(y, np.vstack([scores, scores]), n_resamples=200, random_state=3)
    )
    with pytest.raises(ValueError, match="metric"):
        bootstrap_ci(y, scores, metric="f1")


def test_run_mri_rejects_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match="profile must be one of"):
        run_mri("nope", tmp_path / "r.jsonl", data_home=None)


def test_run_mri_patients_keeps_those_folds(tmp_path, monkeypatch, capsys):
    """--patients runs only the named folds (in the profile's order); an unknown one, or the
    option on another suite, is a one-line error."""
    import benchmarks.mri as mri
    from benchmarks.__main__ import main

    seen = []
    monkeypatch.setattr(mri, "run_mri_profile", lambda profile, *a, **k: seen.append(profile) or 0)
    results = str(tmp_path / "r.jsonl")
    argv = ["run", "--suite", "mri", "--profile", "paper", "--results", results, "--quiet"]
    assert main([*argv, "--patients", "slicer_mrbraintumor2", "pyradiomics_brain1"]) == 0
    assert seen[0].patients == ("pyradiomics_brain1", "slicer_mrbraintumor2")
    assert seen[0].image_size == mri.MRI_PROFILES["paper"].image_size
    assert main([*argv, "--patients", "nobody"]) == 2
    assert "--patients: nobody not in the paper profile" in capsys.readouterr().err
    assert main(["run", "--suite", "quality", "--patients", "pyradiomics_brain1"]) == 2
    assert "--patients applies to the mri suite only" in capsys.readouterr().err


@pytest.mark.slow
def test_run_mri_profile_end_to_end_resumes_and_reports(tmp_path, shared_data_home):
    """A tiny profile on the real volumes: records, resume, torn line, split, report."""
    pytest.importorskip("nibabel")
    pytest.importorskip("pyod")
    profile = MRIProfile(
        name="test",
        image_size=16,
        seeds=(0,),
        detectors=("skanogan", "KNN", BASELINE),
        settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
        patients=("pyradiomics_brain2",),
        n_bootstrap=100,
    )
    results = tmp_path / "mri.jsonl"
    messages = []
    n_records = len(SCORE_TYPES) + 2
    assert (
        run_mri_profile(profile, results, data_home=shared_data_home, log=messages.append)
        == n_records
    )
    records = read_results(results)
    assert {(r["detector"], r["config"]) for r in records} == {
        *(("skanogan", f"default/{score}") for score in SCORE_TYPES),
        ("KNN", "default"),
        (BASELINE, "default"),
    }
    # skanogan's records hold the model that scored them: the library's defaults, the score.
    for r in records:
        if r["detector"] == "skanogan":
            assert r["defaults"] == library_defaults()
            assert r["params"]["score_type"] == r["config"].split("/")[1]
            assert r["params"]["epochs"] == 1 and r["precision"] in ("float32", "bfloat16")
    for r in records:
        assert r["fold"] == "pyradiomics_brain2" and "pyradiomics_brain2" not in r["train_volumes"]
        assert r["healthy_holdout"] not in r["train_volumes"]
        assert len(r["scores"]) == len(r["labels"]) == r["n_slices"]
        assert sum(r["labels"]) == r["n_tumour_slices"] > 0
        assert r["auroc_ci"][0] <= r["auroc"] <= r["auroc_ci"][1]
        assert 0 <= r["confound_auroc"] <= 1
        assert set(r["volume_scores"]) == {r["fold"], r["healthy_holdout"], *UNMASKED}
    assert len(messages) == 3

    assert run_mri_profile(profile, results, data_home=shared_data_home, log=print) == 0
    with results.open("a") as out:
        out.write('{"suite": "mri", "torn')  # a run killed mid-write
    assert run_mri_profile(profile, results, data_home=shared_data_home, log=print) == 0
    assert len(read_results(results)) == n_records

    from benchmarks.mri_report import write_mri_report

    text = "\n".join(write_mri_report([results]))
    assert "### Held-out patient `pyradiomics_brain2`" in text
    assert "| KNN | 1 |" in text and "confound" in text and "Pooled" in text
    default = library_defaults()["score_type"]
    rows = [line for line in text.splitlines() if line.startswith("| skanogan")]
    # skanogan's result (its default score) leads each table, its other scores beside it.
    assert rows[0].startswith(f"| skanogan default ({default}: the default score, the result) |")
    assert "| skanogan default (latent) | 1 |" in text
