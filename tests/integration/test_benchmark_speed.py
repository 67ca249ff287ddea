"""The speed benchmark: a tiny profile end to end, the FLOP counter, the CLI branch.

No timing assertions: speed belongs in the benchmark's results, not in tests.
"""

import dataclasses
import json

import numpy as np
import pytest
import torch

from benchmarks import speed
from benchmarks.__main__ import main
from benchmarks.speed import (
    SpeedProfile,
    compute_dtype,
    count_flops,
    fit_flops,
    matmul_peak,
    run_speed,
)
from benchmarks.speed_report import render_markdown
from skanogan import LatentRegularizedGAN
from skanogan.core import _device

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
    matmul_sides=(32, 64),
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
    # float32, then mixed precision where this CPU runs bfloat16 natively.
    mixed = [True] if speed.mixed_precision_available(torch.device("cpu")) else []
    assert [r["amp"] for r in record["throughput"]] == [False, *mixed]
    row = record["throughput"][0]
    assert (row["image_size"], row["channels"], row["compute_dtype"]) == (16, 1, "float32")
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
    row = tiny_run[0]["throughput"][0]
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
    assert count_flops(lambda: conv(x).sum().backward()) == 2 * 2 * 64 * 2 * 9
    x.requires_grad_(True)
    assert count_flops(lambda: conv(x).sum().backward()) == 3 * 2 * 64 * 2 * 9
    # Without padding, the same count as FlopCounterMode's own formulas.
    assert count_flops(lambda: conv(x).sum().backward(), padding=True) == 3 * 2 * 64 * 2 * 9


def test_count_flops_leaves_out_padding():
    """Kernel taps on zero padding, and the outputs a transposed convolution crops, are not
    counted (FlopCounterMode counts them: the old count, which put a rate above the peak).

    Along one dimension of a k=4, stride-2, padding-1 convolution with 4 outputs, 14 of the
    16 (output, tap) pairs meet the input: the first output's first tap and the last output's
    last tap fall on padding. Its transposed twin (4 inputs to 8 outputs) pairs the same 14.
    """
    conv = torch.nn.Conv2d(2, 3, kernel_size=4, stride=2, padding=1, bias=False)
    x = torch.ones(5, 2, 8, 8)
    assert conv(x).shape[-2:] == (4, 4)
    assert count_flops(lambda: conv(x)) == 2 * 5 * 3 * 2 * 14**2
    assert count_flops(lambda: conv(x), padding=True) == 2 * 5 * 3 * 2 * 16**2
    up = torch.nn.ConvTranspose2d(3, 2, kernel_size=4, stride=2, padding=1, bias=False)
    z = torch.ones(5, 3, 4, 4)
    assert up(z).shape[-2:] == (8, 8)
    assert count_flops(lambda: up(z)) == 2 * 5 * 3 * 2 * 14**2
    assert count_flops(lambda: up(z), padding=True) == 2 * 5 * 3 * 2 * 16**2
    # A 3×3 "same" convolution on 4×4: 10 of 12 pairs per dimension; backward pairs the same
    # elements for the input's gradient and for the weight's.
    same = torch.nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
    y = torch.ones(1, 1, 4, 4, requires_grad=True)
    assert count_flops(lambda: same(y)) == 2 * 10**2
    assert count_flops(lambda: same(y).sum().backward()) == 3 * 2 * 10**2


def test_fit_flops_equal_a_counted_fit():
    """fit_flops's parts add up to FlopCounterMode's count of the whole fit: the training
    steps (a last batch of 5, and a last batch of one left out), the codes pass over the
    training rows and the scoring pass over every row, with validation rows held out."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(42, 1, 16, 16), dtype=np.uint8)
    params = dict(
        base_channels=4,
        latent_dim=4,
        batch_size=8,
        eval_batch_size=16,
        epochs=2,
        validation_fraction=0.2,  # 9 validation rows, 33 training rows: 8+8+8+8 (+1 left out)
        random_state=0,
    )
    counted = count_flops(lambda: LatentRegularizedGAN(**params).fit(X))
    model = LatentRegularizedGAN(**params).fit(X)
    parts = fit_flops(model, X)
    assert set(parts) == {"training", "training_codes", "scoring"}
    assert min(parts.values()) > 0
    assert sum(parts.values()) == counted
    X_odd = X[:38]  # 8 validation rows, 30 training rows: 8+8+8+6
    counted = count_flops(lambda: LatentRegularizedGAN(**params).fit(X_odd))
    assert sum(fit_flops(LatentRegularizedGAN(**params).fit(X_odd), X_odd).values()) == counted


def test_matmul_peak_runs_with_the_given_threads(monkeypatch):
    """Every timed product runs with the run's thread count (here 2, while the test process
    uses 1), which is restored afterwards; the peak is the best over sides and repetitions."""
    seen = []
    timed = speed._timed

    def spy(fn, device):
        seen.append(torch.get_num_threads())
        return timed(fn, device)

    monkeypatch.setattr(speed, "_timed", spy)
    peak = matmul_peak(torch.device("cpu"), sides=(64, 32), reps=3, threads=2)
    assert seen == [2] * 6 and torch.get_num_threads() == 1
    assert peak["threads"] == 2 and peak["dtype"] == "float32" and peak["sides"] == [32, 64]
    assert peak["gflops"] == max(row["gflops"] for row in peak["per_side"])


def test_matmul_peak_in_bfloat16_and_skipping_slow_sides():
    """A bfloat16 peak multiplies bfloat16 matrices; a side whose product would take too long
    (8× the side before per doubling) is skipped with every larger one."""
    peak = matmul_peak(torch.device("cpu"), dtype=torch.bfloat16, sides=(16, 32), reps=2)
    assert peak["dtype"] == "bfloat16" and peak["gflops"] > 0
    slow = matmul_peak(torch.device("cpu"), sides=(16, 32, 64), reps=1, max_product_seconds=0)
    assert slow["sides"] == [16] and slow["skipped_sides"] == [32, 64]


def test_fraction_is_of_the_peak_of_the_compute_dtype():
    """Under bfloat16 autocast the rate is compared with the bfloat16 peak (and, as a second
    figure, with the float32 one); a float32 model with the float32 peak only."""
    peaks = {torch.float32: {"gflops": 100.0}, torch.bfloat16: {"gflops": 400.0}}
    row = speed._fractions({"train_gflops": 80.0}, torch.bfloat16, peaks.__getitem__)
    assert row["compute_dtype"] == "bfloat16" and row["peak_gflops"] == 400.0
    assert row["train_fraction_of_peak"] == 0.2 and row["train_fraction_of_float32_peak"] == 0.8
    row = speed._fractions({"train_gflops": 80.0}, torch.float32, peaks.__getitem__)
    assert row["train_fraction_of_peak"] == 0.8 and "train_fraction_of_float32_peak" not in row
    model = LatentRegularizedGAN(base_channels=4, latent_dim=4, epochs=1, amp=False)
    model.fit(np.zeros((8, 1, 16, 16), dtype=np.uint8))
    assert compute_dtype(model) == torch.float32
    model.amp_dtype_ = torch.bfloat16
    assert compute_dtype(model) == torch.bfloat16


def test_ratios_share_their_work_and_threads(tiny_run):
    """Each ratio's numerator and denominator: counted FLOPs per image × the images/s of the
    same timed work, over the peak of the same dtype measured with the same threads; the fit's
    counted FLOPs over its own seconds."""
    record = tiny_run[0]
    assert record["matmul"] == record["peaks"]["float32"]
    for row in record["throughput"]:
        peak = record["peaks"][row["compute_dtype"]]
        assert peak["threads"] == row["threads"] == record["threads"] == 1
        for part in ("train", "score"):
            gflops = row[f"{part}_gflop_per_image"] * row[f"{part}_images_per_s"]
            assert row[f"{part}_gflops"] == pytest.approx(gflops)
            assert row[f"{part}_fraction_of_peak"] == pytest.approx(gflops / peak["gflops"])
        padded = row[f"{part}_gflop_per_image_with_padding"]
        assert row[f"{part}_gflop_per_image"] < padded
    fit = record["comparison"][0]
    assert fit["detector"] == "skanogan"
    assert fit["fit_gflop"] == pytest.approx(sum(fit["fit_gflop_parts"].values()))
    assert fit["fit_gflops"] == pytest.approx(fit["fit_gflop"] / fit["fit_seconds"])
    fit_peak = record["peaks"][fit["compute_dtype"]]
    assert fit["fit_fraction_of_peak"] == pytest.approx(fit["fit_gflops"] / fit_peak["gflops"])
    markdown = tiny_run[1].with_suffix(".md").read_text()
    assert "skanogan's `fit` counted" in markdown and "float32 matmul" in markdown


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
    plain, with_compile = record["throughput"][0], record["throughput"][-1]
    assert (plain["compile"], with_compile["compile"]) == (False, True)
    assert eager_compile and with_compile["train_images_per_s"] > 0
    assert with_compile["train_gflop_per_image"] == plain["train_gflop_per_image"]
    assert "| 16 px (compile=True) | 1 |" in (tmp_path / "speed.md").read_text()


@pytest.mark.slow
def test_mixed_precision_rows_beside_float32(tmp_path, monkeypatch):
    """Where bfloat16 runs (here: said to, emulated on CPUs without it), each shape gets a
    float32 row and a bfloat16 row of the same counted work, and the page names both and the
    CPU's instruction sets."""
    monkeypatch.setattr(_device, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "cpu_supports_bf16", lambda: True)
    profile = dataclasses.replace(TINY, comparison_detectors=("skanogan",), linearity=())
    record = run_speed(profile, tmp_path / "speed.json", command="test", log=lambda _: None)
    float32, bfloat16 = record["throughput"]
    assert (float32["amp"], float32["compute_dtype"]) == (False, "float32")
    assert (bfloat16["amp"], bfloat16["compute_dtype"]) == (True, "bfloat16")
    assert bfloat16["train_gflop_per_image"] == float32["train_gflop_per_image"]
    assert bfloat16["train_fraction_of_peak"] == pytest.approx(
        bfloat16["train_gflops"] / record["peaks"]["bfloat16"]["gflops"]
    )
    page = (tmp_path / "speed.md").read_text()
    assert "| 16 px | 1 | float32 |" in page and "| 16 px | 1 | bfloat16 |" in page
    assert "instruction sets:" in page
    assert record["instruction_sets"] == speed.instruction_sets()
