"""The validation sweep: tasks from training data only, resumable records, the ranking."""

import json

import numpy as np
import pytest

from benchmarks import validation
from benchmarks.validation_report import render, rows, summary
from skanogan import LatentRegularizedGAN, datasets
from skanogan.model_selection import one_class_split


def _row_set(images: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in images.reshape(len(images), -1)}


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_mnist_like_cells_use_the_training_split_only(shared_data_home, dataset):
    """Fit and validation images are disjoint training images; no test image is used."""
    X_fit, X_val, y_val = validation.load_cell_data(dataset, 3, seed=0)
    data = getattr(datasets, f"load_{dataset}")(shared_data_home)
    assert X_fit.shape == (validation.N_FIT, 1, 28, 28) and X_fit.dtype == np.uint8
    assert (y_val == 0).sum() == validation.N_VAL_NORMAL
    assert (y_val == 1).sum() == validation.N_VAL_ANOMALOUS
    train, test = _row_set(data.images_train), _row_set(data.images_test)
    fit, val = _row_set(X_fit), _row_set(X_val)
    assert fit <= train and val <= train and not fit & val
    assert not (fit | val) & (test - train)
    normal_class = _row_set(data.images_train[data.target_train == 3])
    assert fit <= normal_class and _row_set(X_val[y_val == 0]) <= normal_class
    assert not _row_set(X_val[y_val == 1]) & normal_class


def test_elpv_cells_are_the_benchmarks_training_half(shared_data_home):
    """Fit + held-out normals are the benchmark's training normals; anomalies are from that half."""
    X_fit, X_val, y_val = validation.load_cell_data("elpv", 0, seed=1)
    data = datasets.load_elpv(shared_data_home)
    split = one_class_split(data.images, data.target, 0, test_size=0.5, random_state=1)
    shrunk = validation._shrink(split.X_train, validation.ELPV_SIDE)
    assert _row_set(np.concatenate([X_fit, X_val[y_val == 0]])) == _row_set(shrunk)
    assert not _row_set(X_fit) & _row_set(X_val)
    test_half = validation._shrink(split.X_test, validation.ELPV_SIDE)
    assert not _row_set(X_val[y_val == 1]) & _row_set(test_half[split.y_test == 0])
    assert 0.25 < (y_val == 0).sum() / (len(X_fit) + (y_val == 0).sum()) < 0.35


def test_run_resumes_and_splits_cells_between_workers(tmp_path, monkeypatch):
    """Records are keyed by cell: a rerun adds nothing, and two workers share the cells."""
    monkeypatch.setattr(validation, "CLASSES", {"mnist": (0, 1, 2)})
    monkeypatch.setattr(validation, "PEERS", ())
    monkeypatch.setattr(
        validation,
        "load_cell_data",
        lambda *args: (np.zeros((1,)), np.zeros((1,)), np.zeros(1)),
    )
    monkeypatch.setattr(
        validation,
        "run_skanogan",
        lambda config, *args: {"scores": {"15": {}}, "fit_seconds": 0.0},
    )
    results = tmp_path / "v.jsonl"
    for worker in ((0, 2), (1, 2), (0, 2)):
        validation.run(["paper"], (0,), results, worker)
    keys = [(r["dataset"], r["class"]) for r in map(json.loads, results.read_text().splitlines())]
    assert sorted(keys) == [("mnist", 0), ("mnist", 1), ("mnist", 2)]


def _record(config, dataset, normal_class, auroc, **params):
    scores = {"15": {"latent": {"auroc": auroc, "ap": auroc}}}
    record = {"config": config, "dataset": dataset, "class": normal_class, "seed": 0}
    if config in validation.PEERS:
        return {**record, "scores": {"default": {"auroc": auroc, "ap": auroc}}}
    claimed = {**validation.BASE, **validation.CONFIGS[config]}
    fitted = {**LatentRegularizedGAN(**claimed).get_params(), **params}
    return {**record, "scores": scores, "params": fitted}


def test_report_refuses_records_fitted_with_other_parameters():
    """A configuration that leaned on defaults which changed since is caught, not ranked."""
    records = [
        _record("paper_no_rank", "mnist", 2, 0.9),
        _record("paper_no_rank", "mnist", 3, 0.9, w_irec=50.0, w_adv=1.0),
    ]
    with pytest.raises(ValueError, match=r"1 records .*paper_no_rank/mnist/3/0 \(w_adv, w_irec\)"):
        render(records)
    older = {key: value for key, value in records[0]["params"].items() if key != "ema_decay"}
    validation.check_records([{**records[0], "params": older}])  # ema_decay=0 before it existed


def test_report_ranks_complete_rows_by_the_mean_over_datasets(monkeypatch):
    """Each data set weighs the same; incomplete configurations are listed, not ranked."""
    monkeypatch.setattr(validation, "CLASSES", {"mnist": (0, 1), "elpv": (0,)})
    import benchmarks.validation_report as report

    monkeypatch.setattr(report, "CLASSES", validation.CLASSES)
    monkeypatch.setattr(report, "DATASETS", ("mnist", "elpv"))
    records = [
        _record("paper", "mnist", 0, 0.9),
        _record("paper", "mnist", 1, 0.7),
        _record("paper", "elpv", 0, 0.6),
        _record("LOF", "mnist", 0, 0.95),
        _record("LOF", "mnist", 1, 0.95),
        _record("LOF", "elpv", 0, 0.4),
        _record("ganomaly", "mnist", 0, 1.0),
    ]
    table = rows(records)
    assert summary(table["paper/latent@15"]) == pytest.approx(
        {"mnist": 0.8, "elpv": 0.6, "score": 0.7}
    )
    text = render(records)
    ranking = text.split("### Ranking")[1].split("###")[0]
    assert ranking.index("paper/latent@15") < ranking.index("| LOF")  # 0.700 > 0.675
    assert "ganomaly" not in ranking and "Incomplete (cells done of 3): ganomaly 1" in text


def test_every_class_confirms_on_all_classes_and_ranks_only_full_rows():
    """``--classes every``: ten MNIST and Fashion-MNIST classes and ELPV; rows missing a class of
    them (a configuration only swept on the four classes) are not ranked."""
    every = validation.CLASS_SETS["every"]
    cells = list(validation.cells(["ganomaly"], (0,), every))
    assert len(cells) == 3 * 21 and cells[-1] == ("ganomaly", "elpv", 0, 0)
    records = [
        _record(config, dataset, normal_class, 0.9)
        for config in ("ganomaly", "LOF")
        for dataset, classes in every.items()
        for normal_class in classes
    ] + [_record("paper", "mnist", 2, 1.0)]
    text = render(records, every)
    assert "Cells: 21 (mnist [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in text
    ranking = text.split("### Ranking")[1].split("###")[0]
    assert "ganomaly/latent@15" in ranking and "paper" not in ranking


def test_paired_table_applies_the_decision_rule(monkeypatch):
    """A row beats the reference only with a higher score and a paired lead above 2 SE."""
    import benchmarks.validation_report as report

    monkeypatch.setattr(validation, "CLASSES", {"mnist": (0, 1, 2, 3), "elpv": (0,)})
    monkeypatch.setattr(report, "CLASSES", validation.CLASSES)
    monkeypatch.setattr(report, "DATASETS", ("mnist", "elpv"))

    def records(config, values, elpv):
        out = []
        for normal_class, auroc in enumerate([*values, elpv]):
            record = _record(config, "elpv" if normal_class == 4 else "mnist", normal_class % 4, 0)
            record["scores"] = {"15": {"residual_density": {"auroc": auroc, "ap": auroc}}}
            out.append(record)
        return out

    base = [0.90, 0.80, 0.70, 0.60]
    steady = [v + 0.01 + d for v, d in zip(base, (0.001, -0.001, 0.002, -0.002), strict=True)]
    noisy = [v + d for v, d in zip(base, (0.05, -0.04, 0.06, -0.03), strict=True)]
    text = render(
        records("ganomaly", base, 0.6)
        + records("paper", steady, 0.6)
        + records("ganomaly_nuclear", noisy, 0.7)
    )
    table = text.split("### Paired against `ganomaly/residual_density@15`")[1].split("###")[0]
    lines = {ln.split(" | ")[0].strip("| "): ln for ln in table.splitlines() if "@15" in ln}
    assert lines["paper/residual_density@15"].endswith("| +0.0050 | yes |")
    assert "+0.0100 ± 0.0009" in lines["paper/residual_density@15"]
    # A higher score (its ELPV cell) with a paired lead of under 2 SE does not replace it.
    assert "+0.0100 ± 0.0261" in lines["ganomaly_nuclear/residual_density@15"]
    assert lines["ganomaly_nuclear/residual_density@15"].endswith("| no |")
    assert report.paired({("mnist", 0, 0): 0.5}, {("mnist", 0, 0): 0.4})["n"] == 1


def test_precision_table_compares_each_bf16_row_with_its_float32_twin(monkeypatch):
    """``X_bf16`` against ``X`` seed by seed; the criterion is the float32 seed spread, and a
    record whose precision is not its configuration's is refused."""
    import benchmarks.validation_report as report

    monkeypatch.setattr(validation, "CLASSES", {"mnist": (0, 1), "elpv": (0,)})
    monkeypatch.setattr(report, "CLASSES", validation.CLASSES)
    monkeypatch.setattr(report, "DATASETS", ("mnist", "elpv"))
    float32, bf16 = "ganomaly_scale_free_0.1", "ganomaly_scale_free_0.1_bf16"
    records = []
    for seed, (a, b) in enumerate([(0.90, 0.89), (0.92, 0.92), (0.94, 0.93)]):
        for dataset, normal_class in (("mnist", 0), ("mnist", 1), ("elpv", 0)):
            for config, auroc, precision in ((float32, a, "float32"), (bf16, b, "bfloat16")):
                record = _record(config, dataset, normal_class, auroc)
                records.append({**record, "seed": seed, "precision": precision})
    table = render(records).split("### bfloat16 against float32")[1].split("###")[0]
    (line,) = [row for row in table.splitlines() if row.startswith(f"| {float32}/latent@15 |")]
    cells = [cell.strip() for cell in line.split("|")[1:-1]]
    assert cells[1] == "3" and cells[2] == "0.9000, 0.9200, 0.9400"
    assert cells[4] == "0.9200 ± 0.0200" and cells[5] == "0.9133 ± 0.0208"
    assert cells[6] == "-0.0067 ± 0.0021" and cells[7] == "yes"  # 0.9133 >= 0.92 - 0.02
    with pytest.raises(ValueError, match=r"ganomaly_scale_free_0.1_bf16/mnist/0/0 \(amp\)"):
        render([{**records[1], "precision": "float32"}])
