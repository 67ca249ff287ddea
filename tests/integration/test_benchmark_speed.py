"""The speed benchmark: a tiny profile end to end, the FLOP counter, the CLI branch.

No timing assertions: speed belongs in the benchmark's results, not in tests.
"""

import dataclasses
import json

import pytest
import torch

from benchmarks import speed
from benchmarks.__main__ import main
from benchmarks.speed import SpeedProfile, count_flops, run_speed
from benchmarks.speed_report import render_markdown

pytest.importorskip("pyod")

TINY = SpeedProfile(
    name="tiny",
    sizes=(16,),
    channels=(1,),
    warmup_steps=1,
    train_steps=2,
    score_images=32,
    comparison_n_train=64,
    comparison_epochs=1,
    comparison_n_score=8,
    memmap_n=(200,),
    linearity=((32, 1), (64, 1), (32, 2)),
    batch_size=16,
    estimator={"base_channels": 4, "latent_dim": 4},
    matmul_side=64,
    matmul_reps=2,
    comparison_shape=(1, 16, 16),
    anogan_iterations=2,
    scaling_estimator={"base_channels": 4, "latent_dim": 4},
    profile_shape=(1, 16, 16),
    memory_format_reps=1,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: tiny networks gain nothing from more, and on a busy machine two
    threads wait on each other (ten times slower there)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_run(one_thread, tmp_path_factory):
    """One run of the tiny profile: (record returned, JSON path)."""
    path = tmp_path_factory.mktemp("speed") / "speed-tiny.json"
    record = run_speed(TINY, path, command="test", log=lambda _: None)
    return record, path


@pytest.mark.slow
def test_tiny_profile_writes_every_figure(tiny_run):
    """The JSON holds each part's figures, positive, and the record returned."""
    record, path = tiny_run
    assert json.loads(path.read_text()) == json.loads(json.dumps(record))
    for key in ("environment", "settings", "command", "device", "matmul", "started", "finished"):
        assert key in record
    assert record["matmul"]["gflops"] > 0
    (row,) = record["throughput"]
    assert (row["image_size"], row["channels"]) == (16, 1)
    for key in (
        "train_images_per_s",
        "score_images_per_s",
        "train_gflops",
        "score_gflops",
        "train_fraction_of_peak",
        "score_fraction_of_peak",
        "peak_host_mib",
    ):
        assert row[key] > 0, key
    assert [r["detector"] for r in record["comparison"]] == list(TINY.comparison_detectors)
    assert all(
        r["train_images_per_s"] > 0 and r["score_images_per_s"] > 0 for r in record["comparison"]
    )
    assert record["comparison"][0]["train_ratio_to_first"] == 1.0
    assert [(r["n"], r["epochs"]) for r in record["linearity"]["rows"]] == list(TINY.linearity)
    assert record["linearity"]["fits"]["seconds_vs_n"] is not None


def test_training_counts_more_flops_than_scoring(tiny_run):
    """A training step (G and D, forward and backward) costs more than scoring an image."""
    (row,) = tiny_run[0]["throughput"]
    assert row["score_gflop_per_image"] > 0
    assert row["train_gflop_per_image"] > row["score_gflop_per_image"]


def test_memmap_part_records_rss(tiny_run):
    """Scoring a memmap records seconds and peak RSS; the temporary file is gone."""
    (row,) = tiny_run[0]["memmap"]
    assert row["n"] == 200 and row["seconds"] > 0
    assert row["peak_rss_mib"] >= row["rss_before_mib"] > 0
    assert row["input_float32_mib"] == 4 * row["input_mib"]
    assert row["peak_anon_increase_mib"] is not None and row["output_mib"] == 200 * 8 / 2**20


def test_profile_part_splits_a_training_step_by_operator(tiny_run):
    """The profiler's operator time is split into categories that add up to the whole, with
    the convolutions among them and the top operators listed."""
    step = tiny_run[0]["profile_step"]
    assert step["steps"] == 3 and step["image_shape"] == [1, 16, 16]
    assert sum(step["categories"].values()) == pytest.approx(1.0)
    assert step["categories"]["convolution"] > 0 and step["categories"]["optimizer"] > 0
    assert 0 < step["operator_ms_per_step"] and 0 <= step["outside_operators_fraction"] < 1
    assert len(step["top"]) == 10 and all(row["calls"] >= 1 for row in step["top"])
    assert "## Where a training step's time goes" in tiny_run[1].with_suffix(".md").read_text()


def test_markdown_beside_json(tiny_run):
    """The markdown file has the same stem and one table per part, with the hardware."""
    record, path = tiny_run
    markdown = path.with_suffix(".md").read_text()
    assert markdown == render_markdown(record)
    for heading in ("## Throughput", "## Side by side", "## Scoring a memmap", "## Fit time"):
        assert heading in markdown
    assert "| 16 px | 1 |" in markdown
    assert record["environment"]["cpu"] in markdown and "GFLOP/s" in markdown


def test_count_flops_matches_hand_count():
    """Linear: 2·B·in·out; Conv2d: 2·(output elements)·in_channels·k² (biases not counted)."""
    linear = torch.nn.Linear(3, 5)
    assert count_flops(lambda: linear(torch.ones(2, 3))) == 2 * 2 * 3 * 5
    conv = torch.nn.Conv2d(2, 4, kernel_size=3)
    x = torch.ones(1, 2, 6, 6)
    assert count_flops(lambda: conv(x)) == 2 * (1 * 4 * 4 * 4) * 2 * 3 * 3
    # Backward doubles the forward for a layer whose input needs no gradient... plus the
    # input's gradient when it does: 3× the forward in all.
    x.requires_grad_(True)
    assert count_flops(lambda: conv(x).sum().backward()) == 3 * 2 * 64 * 2 * 9


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(ValueError, match="profile must be one of"):
        run_speed("huge", tmp_path / "x.json")


@pytest.mark.slow
def test_cli_speed_suite(tmp_path, monkeypatch, capsys):
    """`python -m benchmarks run --suite speed` runs the profile and says where it wrote."""
    monkeypatch.setitem(speed.SPEED_PROFILES, "quick", TINY)
    path = tmp_path / "out" / "speed.json"
    code = main(["run", "--suite", "speed", "--profile", "quick", "--results", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert str(path) in out and str(path.with_suffix(".md")) in out
    record = json.loads(path.read_text())
    assert record["profile"] == "tiny"
    assert (
        record["command"]
        == f"python -m benchmarks run --suite speed --profile quick --results {path}"
    )


def test_cli_speed_default_results_path(tmp_path, monkeypatch):
    """Without --results the JSON goes to benchmarks/results/speed-PROFILE.json."""
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(speed, "run_speed", lambda *args, **kwargs: calls.append(args))
    assert main(["run", "--suite", "speed", "--quiet"]) == 0
    assert str(calls[0][1]) == "benchmarks/results/speed-quick.json"


@pytest.mark.slow
def test_benchmark_report_includes_a_speed_record(tmp_path):
    """write_report renders a speed .json beside other results, its headings one level down."""
    from benchmarks.report import write_report

    record = run_speed(TINY, tmp_path / "speed-tiny.json", log=lambda _: None)
    text = write_report([tmp_path / "speed-tiny.json"], tmp_path / "report.md", plots=False)
    assert f"## Speed benchmark ({record['profile']} profile)" in text
    assert "\n# Speed" not in text


def test_memory_format_part_times_both_layouts(tiny_run):
    """channels_last and the default layout are both timed, with their ratio, and rendered."""
    layout = tiny_run[0]["memory_format"]
    for part in ("train", "score"):
        for name in ("contiguous", "channels_last"):
            assert layout[f"{part}_ms_per_step_{name}"] > 0
        ratio = (
            layout[f"{part}_ms_per_step_contiguous"] / layout[f"{part}_ms_per_step_channels_last"]
        )
        assert layout[f"{part}_speedup"] == pytest.approx(ratio)
    assert "## Memory format" in tiny_run[1].with_suffix(".md").read_text()


@pytest.mark.slow
def test_compile_rows_are_measured_with_compile_true(tmp_path, eager_compile):
    """A profile's compile_shapes add throughput rows fitted with compile=True (here with the
    eager backend: no C++ build in the test), with the same FLOPs as the plain row."""
    profile = dataclasses.replace(
        TINY, compile_shapes=((1, 16),), comparison_detectors=("skanogan",), linearity=()
    )
    record = run_speed(profile, tmp_path / "speed.json", command="test", log=lambda _: None)
    plain, with_compile = record["throughput"]
    assert (plain["compile"], with_compile["compile"]) == (False, True)
    assert eager_compile and with_compile["train_images_per_s"] > 0
    assert with_compile["train_gflop_per_image"] == plain["train_gflop_per_image"]
    assert "| 16 px (compile=True) | 1 |" in (tmp_path / "speed.md").read_text()
