"""benchmarks.fit_cost: the default and the paper's settings timed alternately on one task."""

import json

from benchmarks import fit_cost, runner
from benchmarks.runner import Profile

TINY = Profile(
    name="tiny",
    datasets=("digits",),
    classes={"digits": (0,)},
    seeds=(0,),
    detectors=("skanogan",),
    n_train=40,
    n_test=60,
    settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
)


def test_fit_cost_times_both_weight_sets_in_pairs(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(runner.PROFILES, "tiny", TINY)
    order = []
    real = fit_cost.fit_and_score

    def recorded(detector, settings, task, score_types):
        order.append(settings["skanogan"].get("w_adv"))
        return real(detector, settings, task, score_types)

    monkeypatch.setattr(fit_cost, "fit_and_score", recorded)
    results = tmp_path / "cost.json"
    argv = ["--profile", "tiny", "--dataset", "digits", "--pairs", "2", "--threads", "1"]
    assert fit_cost.main([*argv, "--results", str(results)]) == 0
    record = json.loads(results.read_text())
    # default (GANomaly's w_adv=1 from the defaults, not set) then paper (w_adv=5), twice.
    assert order == [None, 5.0, None, 5.0]
    assert {k: len(v) for k, v in record["seconds"].items()} == {"default": 2, "paper": 2}
    medians = record["median_seconds"]
    assert record["ratio"] == medians["default"] / medians["paper"] > 0
    assert record["n_train"] == 40 and record["environment"]["torch_threads"] == 1
    assert "ratio" in capsys.readouterr().out


def test_fit_cost_bad_input_is_one_line(tmp_path, capsys):
    results = tmp_path / "cost.json"
    assert fit_cost.main(["--pairs", "0", "--results", str(results)]) == 2
    assert "pairs must be at least 1" in capsys.readouterr().err
    assert fit_cost.main(["--profile", "bogus", "--results", str(results)]) == 2
    assert "profile must be one of" in capsys.readouterr().err
    assert fit_cost.main(["--dataset", "svhn", "--results", str(results)]) == 2
    assert "not in the paper profile" in capsys.readouterr().err
    assert not results.exists()
