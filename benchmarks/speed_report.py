"""The speed benchmark's markdown: throughput, side by side, memmap scaling and linearity."""

from __future__ import annotations

from typing import Any

from benchmarks.runner import rerun_command

__all__ = ["render_markdown"]


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> list[str]:
    """A markdown table: one column per ``(header, format string over a row)``."""
    lines = [
        "| " + " | ".join(header for header, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    return lines + [
        "| " + " | ".join(cell.format(**row) for _, cell in columns) + " |" for row in rows
    ]


def _mib(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


_THROUGHPUT = [
    ("size", "{image_size} px{compiled}"),
    ("C", "{channels}"),
    ("precision", "{precision}"),
    ("train img/s", "{train_images_per_s:,.1f}"),
    ("score img/s", "{score_images_per_s:,.1f}"),
    ("train GFLOP/img", "{train_gflop_per_image:.4f}"),
    ("score GFLOP/img", "{score_gflop_per_image:.4f}"),
    ("train GFLOP/s (% peak)", "{train_gflops:,.1f} ({train_fraction_of_peak:.0%})"),
    ("score GFLOP/s (% peak)", "{score_gflops:,.1f} ({score_fraction_of_peak:.0%})"),
    ("peak host MiB", "{host}"),
    ("peak device MiB", "{device}"),
]
_COMPARISON = [
    ("detector", "{detector}"),
    ("train img-epochs/s", "{train_images_per_s:,.1f}"),
    ("ratio", "{train_ratio_to_first:.3g}"),
    ("score img/s", "{score_images_per_s:,.1f}"),
    ("ratio", "{score_ratio_to_first:.3g}"),
    ("batch", "{batch_size}"),
    ("peak host MiB", "{host}"),
]
_MEMMAP = [
    ("n", "{n:,}"),
    ("seconds", "{seconds:,.1f}"),
    ("img/s", "{images_per_s:,.0f}"),
    ("input MiB", "{input_mib:,.1f}"),
    ("as float32 MiB", "{input_float32_mib:,.1f}"),
    ("scores MiB", "{output_mib:,.1f}"),
    ("peak anonymous increase MiB", "{anon}"),
    ("peak RSS increase MiB (with file pages)", "{peak_rss_increase_mib:,.0f}"),
]
_PROFILE = [
    ("operator", "`{operator}`"),
    ("ms per step", "{ms_per_step:,.1f}"),
    ("share of operator time", "{fraction:.1%}"),
    ("calls", "{calls:,}"),
]
_LINEARITY = [
    ("n", "{n:,}"),
    ("epochs", "{epochs}"),
    ("fit seconds", "{seconds:,.2f}"),
    ("image-epochs/s", "{image_epochs_per_s:,.1f}"),
]


def _memory(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their memory figures formatted as ``host`` and ``device``."""
    return [
        {
            **r,
            "host": _mib(r.get("peak_host_mib")),
            "device": _mib(r.get("peak_device_mib")),
            "compiled": " (compile=True)" if r.get("compile") else "",
            # Records before mixed-precision rows ran every shape in float32 on the CPU.
            "precision": r.get("compute_dtype", "float32"),
        }
        for r in rows
    ]


def _peaks(record: dict[str, Any]) -> str:
    """The run's matmul peaks: dtype, best side, rate, threads (older records: float32 only)."""
    peaks = record.get("peaks") or {"float32": record["matmul"]}
    parts = []
    for name, peak in peaks.items():
        sides = "/".join(str(side) for side in peak.get("sides", [peak["side"]]))
        threads = f", {peak['threads']} threads" if "threads" in peak else ""
        parts.append(
            f"{name} matmul {peak['gflops']:,.3g} GFLOP/s (best of {peak['reps']} per side over "
            f"sides {sides}, at {peak['side']}{threads})"
        )
    return "; ".join(parts)


def _isa(record: dict[str, Any]) -> str:
    """The CPU's instruction sets that bear on float32 and bfloat16 speed (newer records)."""
    flags = record.get("instruction_sets")
    if flags is None:
        return ""
    return f"; instruction sets: {', '.join(flags) or 'none of those checked'}"


def _fit_rate(comparison: list[dict[str, Any]]) -> list[str]:
    """skanogan's counted FLOPs of its whole fit over its fit seconds, where recorded."""
    row = next((r for r in comparison if r["detector"] == "skanogan" and r.get("fit_gflop")), None)
    if row is None:
        return []
    parts = ", ".join(f"{name} {value:,.1f}" for name, value in row["fit_gflop_parts"].items())
    return [
        "",
        f"skanogan's `fit` counted {row['fit_gflop']:,.1f} GFLOP ({parts}) in "
        f"{row['fit_seconds']:.2f} s: {row['fit_gflops']:,.1f} GFLOP/s, "
        f"{row['fit_fraction_of_peak']:.0%} of the {row['compute_dtype']} matmul peak.",
    ]


def render_markdown(record: dict[str, Any]) -> str:
    """The markdown tables of a :func:`run_speed` record, hardware and versions first."""
    env = record["environment"]
    versions = ", ".join(
        f"{name} {env[name]}"
        for name in ("python", "torch", "numpy", "scikit-learn", "pyod", "skanogan")
        if env.get(name)
    )
    gpu = f" ({env['gpu']})" if env.get("gpu") else ""
    amp = f"; autocast {record['amp_dtype']}" if record["amp_dtype"] else ""
    lines = [
        f"# Speed benchmark ({record['profile']} profile)",
        "",
        f"- Command: `{rerun_command(record['command'])}`, finished {record['finished']} "
        f"({record['total_seconds']:.0f} s in all)",
        f"- Device: {record['device']}{gpu}{amp}; CPU: {env['cpu']}, {env['cpu_count']} "
        f"cores, {env['torch_threads']} torch threads{_isa(record)}",
        f"- Versions: {versions}",
        f"- Peak: {_peaks(record)}",
        "",
        "## Throughput",
        "",
        "Default architecture, batch 64, synthetic uint8 images. FLOPs: matrix products and "
        "convolutions (FlopCounterMode), forward and backward for training, "
        + (
            "convolutions without the multiply-adds on zero padding. "
            if "train_gflop_per_image_with_padding" in record["throughput"][0]
            else "padding included (records before issue 16; remeasure). "
        )
        + "% of peak = achieved GFLOP/s / the same run's matmul peak in the dtype the work ran "
        "in, measured with the same threads.",
        "",
        *_table(_memory(record["throughput"]), _THROUGHPUT),
    ]
    comparison = record["comparison"]
    if comparison:
        first = comparison[0]
        shape = "×".join(str(s) for s in record["settings"]["comparison_shape"])
        lines += [
            "",
            "## Side by side",
            "",
            f"Same {first['n_train']} training and {first['n_score']} scored {shape} images, "
            f"{first['epochs']} epoch(s), `fit` and scoring timed end to end (fit includes each "
            "detector's scoring of its training set; AnoGAN's is its latent search per sample). "
            f"Ratios are to {first['detector']}.",
            "",
            *_table(_memory(comparison), _COMPARISON),
            *_fit_rate(comparison),
        ]
    step = record.get("profile_step")
    if step:
        shape = "×".join(str(s) for s in step["image_shape"])
        shares = ", ".join(f"{name} {share:.1%}" for name, share in step["categories"].items())
        lines += [
            "",
            "## Where a training step's time goes",
            "",
            f"`torch.profiler` over {step['steps']} training steps on {shape} images, batch "
            f"{step['batch_size']}: {step['wall_ms_per_step']:,.0f} ms per step, of which "
            f"{step['operator_ms_per_step']:,.0f} ms in operators ({step['clock']} self time) "
            f"and {step['outside_operators_fraction']:.1%} outside any (Python, reading and "
            f"converting the batch). Operator time by kind: {shares}.",
            "",
            *_table(step["top"], _PROFILE),
        ]
    layout = record.get("memory_format")
    if layout:
        shape = "×".join(str(s) for s in layout["image_shape"])
        lines += [
            "",
            "## Memory format",
            "",
            f"{layout['steps']} training steps and a scoring pass over the same batches "
            f"({shape}, batch {layout['batch_size']}), best of {layout['reps']} interleaved "
            "repetitions, with the networks and batches in each layout.",
            "",
            "| layout | train ms/step | score ms/batch |",
            "|---|---|---|",
            *(
                f"| {name} | {layout[f'train_ms_per_step_{name}']:,.1f} | "
                f"{layout[f'score_ms_per_step_{name}']:,.1f} |"
                for name in ("contiguous", "channels_last")
            ),
            "",
            f"channels_last runs training at {layout['train_speedup']:.2f}× and scoring at "
            f"{layout['score_speedup']:.2f}× the contiguous layout's speed.",
        ]
    if record["memmap"]:
        model = record["settings"].get("scaling_estimator") or {}
        width = ", ".join(f"{key}={value}" for key, value in model.items()) or "default"
        rows = [{**r, "anon": _mib(r.get("peak_anon_increase_mib"))} for r in record["memmap"]]
        lines += [
            "",
            "## Scoring a memmap",
            "",
            "`decision_function` on an `np.memmap` of uint8 images, each n in a fresh process, "
            f"with a narrow model ({width}: memory, not speed, is measured here). Anonymous "
            "memory is what the process allocates itself; RSS also counts the pages of the "
            "mapped file that were read, which are page cache the kernel can drop.",
            "",
            *_table(rows, _MEMMAP),
        ]
    linearity = record["linearity"]
    if linearity["rows"]:
        lines += [
            "",
            "## Fit time against n and epochs",
            "",
            *_table(linearity["rows"], _LINEARITY),
        ]
        fits = linearity["fits"]
        for key, what in (("seconds_vs_n", "n"), ("seconds_vs_epochs", "epochs")):
            line = fits.get(key)
            if line is not None:
                lines += [
                    "",
                    f"Seconds against {what}: {line['intercept']:.3g} + {line['slope']:.4g} × "
                    f"{what}, R² = {line['r2']:.3f}.",
                ]
    return "\n".join(lines) + "\n"
