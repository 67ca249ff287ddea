"""The synthetic-lesion MRI suite: folds, slice and pixel metrics, and an end-to-end smoke run.

The end-to-end test reads the project's shared brain MRI folder and is skipped when it is absent.
"""

import dataclasses
import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from benchmarks.mri import HEALTHY, TEMPLATES
from benchmarks.mri_synthetic import (
    MAP_SCORES,
    SUITE,
    SYNTHETIC_PROFILES,
    HeadData,
    evaluation_rows,
    head_folds,
    intensity_maps,
    map_scores,
    paired_share,
    pixel_metrics,
    run_synthetic_profile,
)
from benchmarks.mri_synthetic_report import render_synthetic
from benchmarks.report import write_report
from benchmarks.runner import read_results


def test_every_healthy_head_is_held_out_once_and_never_trained_on():
    folds = head_folds()
    assert [head for head, _ in folds] == list(HEALTHY)
    for head, train in folds:
        assert head not in train and set(TEMPLATES) <= set(train)
        assert set(train) == set(TEMPLATES) | set(HEALTHY) - {head}
        assert "colin27_t1_brain" not in train  # Colin27 under another name


def _table():
    """Original (copy -1) and two copies of 6 slices; copy 0 has lesions in slices 2-3."""
    copy = np.repeat([-1, 0, 1], 6)
    k = np.tile(np.arange(6), 3)
    voxels = np.zeros(18, int)
    voxels[[6 + 2, 6 + 3]] = 50  # copy 0, slices 2 and 3
    voxels[6 + 4] = 3  # a rim: neither positive nor negative
    voxels[12 + 5] = 40  # copy 1, slice 5
    return {
        "copy": copy,
        "slice_index": k,
        "lesion_voxels": voxels,
        "label": (voxels >= 10).astype(int),
    }


def test_negatives_are_lesion_free_slices_of_the_copies_in_the_lesions_axial_range():
    positives, negatives = evaluation_rows(_table())
    assert sorted(positives) == [8, 9, 17]
    # Range 2..5 of the positives: lesion-free slices of the copies there (copy 0's slice 5,
    # copy 1's 2..4); never the original, never copy 0's rim slice 4, never outside the range.
    assert sorted(negatives) == [11, 14, 15, 16]


def test_paired_share_compares_each_lesioned_slice_with_its_original():
    table = _table()
    scores = np.zeros(18)
    scores[:6] = np.arange(6)  # the original's slice k scores k
    scores[8], scores[9], scores[17] = 5.0, 3.0, 1.0  # above, tie, below their originals
    assert paired_share(table, scores, np.array([8, 9, 17])) == pytest.approx((1 + 0.5 + 0) / 3)


def _head_data(n=4, size=8):
    rng = np.random.default_rng(0)
    test = rng.random((n, 1, size, size)).astype(np.float32)
    lesion = np.zeros_like(test, dtype=bool)
    lesion[1:, 0, 2:4, 2:4] = True
    test[lesion] += 2.0  # bright lesions
    table = {"copy": np.array([-1, *range(n - 1)])}
    return HeadData(
        train_images=rng.random((6, 1, size, size)).astype(np.float32),
        train_brain=np.ones((6, 1, size, size), bool),
        test_images=test,
        test_brain=np.ones_like(lesion),
        test_lesion=lesion,
        table=table,
        lesions=[],
        slice_lesion=[],
    )


def test_pixel_metrics_of_the_intensity_baseline_find_bright_lesions():
    data = _head_data()
    low, high = np.percentile(data.train_images, [1, 99])
    maps = intensity_maps(data.test_images, low, high)
    metrics = pixel_metrics(data, maps, intensity_maps(data.train_images, low, high), 0.99)
    assert metrics["auprc"] == pytest.approx(1.0)
    assert metrics["dice"] > 0.8 and metrics["best_dice_upper_bound"] == pytest.approx(1.0)
    # Only the copies' slices count (the original's row 0 is left out), inside the brain.
    truth = data.test_lesion[1:, 0].ravel()
    noise = np.random.default_rng(1).random(maps.shape)
    train_noise = np.random.default_rng(2).random((6, 8, 8))
    expected = average_precision_score(truth, noise[1:].ravel())
    assert pixel_metrics(data, noise, train_noise, 0.99)["auprc"] == pytest.approx(expected)


def test_residual_map_scores_look_inside_the_head_with_a_level_set_on_training_maps():
    rng = np.random.default_rng(0)
    train_maps, train_images = rng.random((4, 16, 16)), np.ones((4, 1, 16, 16))
    maps = np.full((3, 16, 16), 0.5)
    maps[1, 8, 8] = 5.0  # a bright spot inside the head
    maps[2, 0, 8] = 50.0  # a brighter one in the background
    images = np.ones((3, 1, 16, 16))
    images[:, 0, :6] = 0.0  # background: the first six rows
    scores = map_scores(tuple(MAP_SCORES), maps, images, train_maps, train_images)
    level = np.quantile(train_maps, 0.99)
    assert scores["residual_map_excess"].tolist() == pytest.approx([0, 5.0 - level, 0])
    maximum = scores["residual_map_max"]
    assert maximum[1] > maximum[0] == pytest.approx(maximum[2]) == pytest.approx(0.5)
    # The level comes from the training maps alone: brighter ones lower the excess.
    brighter = map_scores(("residual_map_excess",), maps, images, train_maps * 4, train_images)
    assert brighter["residual_map_excess"][1] < scores["residual_map_excess"][1]


def test_heads_option_keeps_those_folds(tmp_path, monkeypatch, capsys):
    """--heads runs only the named held-out heads (in the profile's order); an unknown one, or
    the option on another suite, is a one-line error."""
    import benchmarks.mri_synthetic as synthetic
    from benchmarks.__main__ import main

    seen = []
    monkeypatch.setattr(
        synthetic, "run_synthetic_profile", lambda profile, *a, **k: seen.append(profile) or 0
    )
    results = str(tmp_path / "r.jsonl")
    argv = ["run", "--suite", "mri-synthetic", "--profile", "quick", "--results", results]
    assert main([*argv, "--quiet", "--heads", "slicer_mrhead_t1", "colin27_t1"]) == 0
    assert seen[0].heads == ("colin27_t1", "slicer_mrhead_t1")
    assert seen[0].image_size == SYNTHETIC_PROFILES["quick"].image_size
    assert main([*argv, "--heads", "nobody"]) == 2
    assert "--heads: nobody not in the quick profile" in capsys.readouterr().err
    assert main(["run", "--suite", "mri", "--heads", "colin27_t1"]) == 2
    assert "--heads applies to the mri-synthetic suite only" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_profile_end_to_end(shared_data_home, tmp_path):
    """The smoke profile writes one synthetic record per cell, resumes, and renders."""
    pytest.importorskip("nibabel", reason="the mri extra (nibabel) is absent")
    profile = SYNTHETIC_PROFILES["smoke"]
    results = tmp_path / "mri-synthetic-smoke.jsonl"
    written = run_synthetic_profile(profile, results, data_home=shared_data_home, log=lambda _: 0)
    records = read_results(results)
    expected = len(profile.score_types) + len(profile.detectors) - 1
    assert written == len(records) == expected
    for record in records:
        assert record["suite"] == SUITE and record["synthetic"] is True
        assert record["fold"] == profile.heads[0]
        s = record["slice"]
        assert s["n_lesioned"] > 0 and s["n_lesion_free"] > 0
        assert 0 <= s["auroc"] <= 1 and 0 <= s["paired"] <= 1
        assert len(record["lesions"]) == profile.n_copies
        assert record["lesion_params"] == json.loads(
            json.dumps(dataclasses.asdict(profile.lesions))
        )
    by_detector = {r["detector"]: r for r in records}
    assert set(by_detector["skanogan"]["pixel"]) == {"residual", "saliency"}
    assert set(by_detector["intensity_threshold"]["pixel"]) == {"intensity"}
    assert (tmp_path / "mri-synthetic-smoke" / f"{profile.heads[0]}.png").stat().st_size > 0
    # Resuming writes nothing new; the report says "synthetic" and shows every detector.
    assert run_synthetic_profile(profile, results, data_home=shared_data_home, log=print) == 0
    # A profile that gains the residual-map scores refits and appends only those records.
    grown = dataclasses.replace(profile, map_scores=tuple(MAP_SCORES))
    assert run_synthetic_profile(grown, results, data_home=shared_data_home, log=print) == 2
    records = read_results(results)
    keys = [(r["detector"], r["config"]) for r in records]
    assert len(set(keys)) == len(keys) == expected + len(MAP_SCORES)
    assert {("skanogan", f"default/{name}") for name in MAP_SCORES} <= set(keys)
    text = "\n".join(render_synthetic(records, results.name))
    assert "| skanogan residual_map_max (benchmark score of the residual map) |" in text
    assert "synthetic" in text.lower() and "intensity_threshold" in text
    # One head here: the mean of heads is that head's AUROC; one seed: its own interval.
    knn = by_detector["KNN"]["slice"]
    low, high = knn["auroc_ci"]
    share = knn["n_lesioned"] / (knn["n_lesioned"] + knn["n_lesion_free"])
    assert (
        f"Slice AP at chance (the share of lesioned slices): {profile.heads[0]} {share:.2f}."
        in text
    )
    assert low <= knn["auroc"] <= high
    assert (
        f"| KNN | {knn['auroc']:.3f} [{low:.2f}, {high:.2f}] | {knn['ap']:.3f} | "
        f"{knn['paired']:.3f} | "
        f"{knn['auroc']:.3f} |"
    ) in text
    page = write_report([results], tmp_path / "docs" / "benchmarks.md")
    assert f"mri-synthetic-smoke/{profile.heads[0]}.png)" in page
    assert (
        tmp_path / "docs" / "benchmarks" / "mri-synthetic-smoke" / f"{profile.heads[0]}.png"
    ).exists()
    json.dumps(records)  # plain JSON all through


@pytest.mark.slow
def test_skull_stripped_preprocessing_keeps_only_the_brain(shared_data_home):
    """With preprocessing="brain" the pixels outside the brain mask are the background."""
    pytest.importorskip("nibabel", reason="the mri extra (nibabel) is absent")
    from benchmarks.mri import brain_mri_folder
    from benchmarks.mri_synthetic import SliceCut, load_head_data

    profile = dataclasses.replace(SYNTHETIC_PROFILES["smoke"], preprocessing="brain")
    data = load_head_data(
        brain_mri_folder(shared_data_home), profile.heads[0], SliceCut.of(profile)
    )
    for images, brain in (
        (data.train_images, data.train_brain),
        (data.test_images, data.test_brain),
    ):
        # Only the rim next to the brain, where resampling blends it in, is not background.
        outside = images[~brain]
        assert np.mean(outside > 0.01) < 0.2 and np.median(outside) == 0.0  # 15 mm pixels here
    assert (
        data.test_lesion[data.test_lesion].size and not (data.test_lesion & ~data.test_brain).any()
    )


@pytest.mark.slow
def test_mirror_adds_each_training_slice_flipped_left_right(shared_data_home):
    """mirror=True trains on the slices and their left–right mirror; the test head is untouched."""
    pytest.importorskip("nibabel", reason="the mri extra (nibabel) is absent")
    from benchmarks.mri import brain_mri_folder
    from benchmarks.mri_synthetic import SliceCut, load_head_data

    profile = SYNTHETIC_PROFILES["smoke"]
    folder, head = brain_mri_folder(shared_data_home), profile.heads[0]
    plain = load_head_data(folder, head, SliceCut.of(profile))
    mirrored = load_head_data(folder, head, SliceCut.of(dataclasses.replace(profile, mirror=True)))
    n = len(plain.train_images)
    assert mirrored.train_images.shape == (2 * n, *plain.train_images.shape[1:])
    np.testing.assert_array_equal(mirrored.train_images[:n], plain.train_images)
    # Rows run towards the subject's right: the mirror reverses them, not the columns.
    np.testing.assert_array_equal(mirrored.train_images[n:], plain.train_images[:, :, ::-1])
    np.testing.assert_array_equal(mirrored.train_brain[n:], plain.train_brain[:, :, ::-1])
    np.testing.assert_array_equal(mirrored.test_images, plain.test_images)
