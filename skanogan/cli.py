"""The ``skanogan`` command line: ``demo``, ``benchmark run``, ``benchmark report``, ``info``.

A user error (a bad value, a missing optional dependency) prints one line on stderr and exits
with code 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from skanogan.demo import DEMO_EPOCHS


def _demo(args: argparse.Namespace) -> None:
    from skanogan.demo import run_demo

    result = run_demo(
        normal_digit=args.digit,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        plot_path=None if args.no_plot else Path(args.output),
        verbose=0 if args.quiet else 1,
    )
    print(
        f"Digits, one-class protocol: digit {args.digit} normal, the others anomalous; "
        f"trained on its images of a stratified half, tested on the other half (seed {args.seed})."
    )
    print(result.table())
    print(
        "Other digits: skanogan demo --digit N; all ten digits over three seeds, with PyOD "
        "beside them: docs/quality.md (python examples/digits_quality.py)."
    )
    if len(result.scores) == 1:
        print("PyOD is not installed, so no baseline was run: pip install 'skanogan[demo]'")
    if result.plot_path is not None:
        print(f"plot written to {result.plot_path}")
    elif not args.no_plot:
        print("matplotlib is not installed, so no plot was written: pip install 'skanogan[demo]'")


def _benchmark_run(args: argparse.Namespace) -> None:
    from skanogan.benchmark.runner import PROFILES, run

    if args.suite != "quality":
        raise ValueError(f"--suite {args.suite} is not implemented yet; available: quality")
    profile = PROFILES[args.profile]
    log = (lambda _: None) if args.quiet else print
    results = Path(args.results or f"benchmarks/results/{args.suite}-{args.profile}.jsonl")
    written = run(profile, results, data_home=args.data_home, log=log)
    print(f"{written} new result(s) appended to {results}")


def _benchmark_report(args: argparse.Namespace) -> None:
    from skanogan.benchmark.report import write_report

    if args.results is None:
        paths = sorted(Path("benchmarks/results").glob("*.jsonl"))
        if not paths:
            raise ValueError("no results in benchmarks/results: run `skanogan benchmark run` first")
    else:
        paths = [Path(p) for p in args.results]
    for path in paths:
        if not path.exists():
            raise ValueError(f"no results file at {path}: run `skanogan benchmark run` first")
    write_report(paths, Path(args.output), plots=not args.no_plot)
    print(f"report written to {args.output}")


def _info(args: argparse.Namespace) -> None:
    import numpy as np
    import sklearn
    import torch

    from skanogan import __version__

    print(f"skanogan {__version__}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, torch {torch.__version__}"
    )
    devices = ["cpu"] + [
        f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())
    ]
    print("devices: " + ", ".join(devices))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skanogan", description="GAN-based image anomaly detection."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="train on the embedded digits and compare with PyOD baselines"
    )
    demo.add_argument("--digit", type=int, default=0, choices=range(10), help="the normal digit")
    demo.add_argument("--epochs", type=int, default=DEMO_EPOCHS, help="training epochs")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    demo.add_argument(
        "--output",
        default="skanogan-demo.png",
        help="plot file; if it exists, the plot goes to a free name beside it",
    )
    demo.add_argument("--no-plot", action="store_true", help="do not write a plot")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)

    benchmark = commands.add_parser("benchmark", help="run the benchmarks and report them")
    bench_commands = benchmark.add_subparsers(dest="benchmark_command", required=True)
    bench_run = bench_commands.add_parser(
        "run", help="run a profile; resumes, skipping cells already in the results file"
    )
    bench_run.add_argument("--suite", default="quality", choices=("quality", "mri", "speed"))
    bench_run.add_argument("--profile", default="quick", choices=("quick", "paper"))
    bench_run.add_argument(
        "--results",
        default=None,
        help="JSON-lines results file (default: benchmarks/results/SUITE-PROFILE.jsonl)",
    )
    bench_run.add_argument(
        "--data-home", default=None, help="data folder (default: $SKANOGAN_DATA or pooch's cache)"
    )
    bench_run.add_argument("--quiet", action="store_true", help="no line per cell")
    bench_run.set_defaults(func=_benchmark_run)
    bench_report = bench_commands.add_parser(
        "report", help="markdown tables and plots from a results file (regenerated each time)"
    )
    bench_report.add_argument(
        "--results",
        nargs="+",
        default=None,
        help="results files, one section each (default: benchmarks/results/*.jsonl)",
    )
    bench_report.add_argument("--output", default="docs/benchmarks.md")
    bench_report.add_argument("--no-plot", action="store_true")
    bench_report.set_defaults(func=_benchmark_report)

    info = commands.add_parser("info", help="versions and devices")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, OSError) as exc:
        print(f"skanogan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
