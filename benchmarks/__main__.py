"""The benchmark command line: ``python -m benchmarks COMMAND``, from a clone of the repository.

- ``run --suite quality|mri|mri-synthetic|speed --profile quick|paper``: run a suite, resuming
  where its results file stops (``--detectors``, ``--datasets``, ``--ablations NAME…``,
  ``--weights NAME…``: a subset of the quality suite; naming no weight set leaves that part
  out; ``--patients NAME…``: folds of the MRI suite; ``--heads NAME…``: held-out heads of the
  synthetic-lesion suite). The quality suite also has ``--profile ablation`` (MNIST's loss
  ablation), the synthetic-lesion suite the profiles of
  :data:`benchmarks.mri_synthetic.SYNTHETIC_PROFILES` (``select-*``: its selection runs);
- ``merge PART… --results FILE``: the records of a profile split over processes (``--heads``,
  ``--patients``, ``--detectors``…) appended to one results file, montages copied beside it;
- ``report``: ``docs/benchmarks.md`` from every results file (``--legacy-paper-rows``: skanogan
  0.1.0's records as the paper's settings, see :mod:`benchmarks.configs`);
- ``reproduce --results FILE --cell DATASET CLASS SEED``: refit one recorded skanogan cell and
  compare its AUROCs (:mod:`benchmarks.reproduce`);
- ``python -m benchmarks.below_chance``: refits of the two PyOD rows that rank below chance.

The harness is not installed with skanogan, so its defaults are paths of the repository
(``benchmarks/results/``, ``docs/benchmarks.md``): run it from the clone's root. A user error
prints one line on stderr and exits with code 2, as the ``skanogan`` command does.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from skanogan.cli import run_command

#: Options of ``run`` that keep a subset of the quality profile's field of that name.
_PROFILE_SUBSETS = ("detectors", "datasets", "ablations", "weights")


def _run(args: argparse.Namespace) -> None:
    for option in _PROFILE_SUBSETS:
        if getattr(args, option) is not None and args.suite != "quality":
            raise ValueError(f"--{option} applies to the quality suite only, not {args.suite!r}")
    if args.patients is not None and args.suite != "mri":
        raise ValueError(f"--patients applies to the mri suite only, not {args.suite!r}")
    if args.heads is not None and args.suite != "mri-synthetic":
        raise ValueError(f"--heads applies to the mri-synthetic suite only, not {args.suite!r}")
    if args.suite == "speed" and args.profile not in ("quick", "paper"):
        raise ValueError(f"--profile must be quick or paper, got {args.profile!r}")
    if args.suite == "speed":
        from benchmarks import speed

        results = Path(args.results or f"benchmarks/results/speed-{args.profile}.json")
        command = f"python -m benchmarks run --suite speed --profile {args.profile}"
        speed.run_speed(
            args.profile,
            results,
            command=command + (f" --results {args.results}" if args.results else ""),
            log=(lambda _: None) if args.quiet else print,
        )
        print(f"speed results written to {results} and {results.with_suffix('.md')}")
        return
    log = (lambda _: None) if args.quiet else print
    results = Path(args.results or f"benchmarks/results/{args.suite}-{args.profile}.jsonl")
    if args.suite == "mri":
        from benchmarks.mri import run_mri

        written = run_mri(
            args.profile, results, data_home=args.data_home, log=log, patients=args.patients
        )
    elif args.suite == "mri-synthetic":
        from benchmarks.mri_synthetic import SYNTHETIC_PROFILES, run_synthetic_profile
        from benchmarks.runner import named_profile, profile_subset

        profile = named_profile(SYNTHETIC_PROFILES, args.profile, args.suite)
        if args.heads is not None:
            heads = profile_subset("heads", args.heads, profile.heads, profile.name)
            profile = dataclasses.replace(profile, heads=heads)
        written = run_synthetic_profile(profile, results, data_home=args.data_home, log=log)
    else:
        from benchmarks.runner import PROFILES, named_profile, profile_subset, run

        profile = named_profile(PROFILES, args.profile, args.suite)
        for option in _PROFILE_SUBSETS:
            chosen, planned = getattr(args, option), getattr(profile, option)
            if option == "datasets":
                planned += profile.on_request
            if chosen is None:
                continue
            kept = profile_subset(option, chosen, planned, profile.name)
            profile = dataclasses.replace(profile, **{option: kept})
        written = run(profile, results, data_home=args.data_home, log=log)
    print(f"{written} new result(s) appended to {results}")


def report_inputs(folder: Path) -> list[Path]:
    """The results files of ``folder`` that the report reads by default, in page order.

    The quality suite first (the page opens with its summary), its paper profile and the
    diagnosis of that file (``quality-paper-below-chance.json``) leading, then by stem. The
    validation sweep (training data only) has its own report beside its results
    (``python -m benchmarks.validation report``): not test-split tables for this page; nor is
    the fit-cost check (``python -m benchmarks.fit_cost``, quoted in docs/paper.md).
    """
    return sorted(
        (
            p
            for p in [*folder.glob("*.jsonl"), *folder.glob("*.json")]
            if not p.stem.startswith(("validation", "fit-cost"))
        ),
        key=lambda p: (
            not p.stem.startswith("quality"),
            not p.stem.startswith("quality-paper"),
            p.stem,
        ),
    )


def _report(args: argparse.Namespace) -> None:
    from benchmarks.report import write_report

    if args.results is None:
        paths = report_inputs(Path("benchmarks/results"))
        if not paths:
            raise ValueError(
                "no results in benchmarks/results: run `python -m benchmarks run` first"
            )
    else:
        paths = [Path(p) for p in args.results]
    for path in paths:
        if not path.exists():
            raise ValueError(f"no results file at {path}: run `python -m benchmarks run` first")
    write_report(
        paths,
        Path(args.output),
        plots=not args.no_plot,
        legacy_paper_rows=args.legacy_paper_rows,
    )
    print(f"report written to {args.output}")


def _merge(args: argparse.Namespace) -> None:
    from benchmarks.runner import merge_results

    written, skipped = merge_results(args.parts, Path(args.results))
    print(f"{written} record(s) appended to {args.results}; {skipped} skipped, already there")


def _reproduce(args: argparse.Namespace) -> None:
    from benchmarks.reproduce import TOLERANCE, reproduce

    dataset, normal_class, seed = args.cell
    tolerance = TOLERANCE if args.tolerance is None else args.tolerance
    rows = reproduce(
        Path(args.results),
        dataset,
        int(normal_class),
        int(seed),
        weights=args.weights,
        data_home=args.data_home,
        tolerance=tolerance,
    )
    differ = [row["config"] for row in rows if not row["same"]]
    if differ:
        raise ValueError(
            f"not reproduced within {tolerance:g}: {', '.join(differ)} of "
            f"{dataset} {normal_class} {seed} in {args.results}"
        )
    print(f"reproduced: {len(rows)} record(s) within {tolerance:g}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m benchmarks``: ``run``, ``merge``, ``report``, ``reproduce``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks and report them (from a clone of the repository).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run a profile; resumes, skipping cells already in the results file"
    )
    run.add_argument(
        "--suite", default="quality", choices=("quality", "mri", "mri-synthetic", "speed")
    )
    run.add_argument(
        "--profile",
        default="quick",
        help="quick or paper; the quality suite also has ablation (the MNIST loss ablation at "
        "2,000 training normals), the mri-synthetic suite the profiles of "
        "benchmarks.mri_synthetic.SYNTHETIC_PROFILES (select-*: choices made on lesions that "
        "are not reported)",
    )
    run.add_argument(
        "--results",
        default=None,
        help="results file (default: benchmarks/results/SUITE-PROFILE.jsonl; .json for speed)",
    )
    run.add_argument(
        "--data-home", default=None, help="data folder (default: $SKANOGAN_DATA or pooch's cache)"
    )
    run.add_argument(
        "--detectors",
        nargs="+",
        metavar="NAME",
        help="quality suite: run only these of the profile's detectors (to split a long "
        "profile over processes or machines, each with its own --results file)",
    )
    run.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help="quality suite: run only these of the profile's datasets (cifar10, in the paper "
        "profile, only when named here: it reads a user's copy of CIFAR-10)",
    )
    run.add_argument(
        "--ablations",
        nargs="*",
        metavar="NAME",
        help="quality suite: fit only these weight sets of the loss ablation (irec_adv, "
        "irec_adv_rank, irec_adv_zrec); none named: no ablation fit",
    )
    run.add_argument(
        "--weights",
        nargs="*",
        metavar="NAME",
        help="quality suite: fit only these of skanogan's main weight sets (default: the "
        "library's defaults, paper: skanogan.PAPER_SETTINGS); none named: no main-table fit "
        "of skanogan (to run a profile's loss ablation apart from its main table)",
    )
    run.add_argument(
        "--patients",
        nargs="+",
        metavar="NAME",
        help="mri suite: run only the folds of these held-out patients (to split a long "
        "profile over processes, each with its own --results file)",
    )
    run.add_argument(
        "--heads",
        nargs="+",
        metavar="NAME",
        help="mri-synthetic suite: run only the folds of these held-out healthy heads (to split "
        "a long profile over processes, each with its own --results file)",
    )
    run.add_argument("--quiet", action="store_true", help="no line per cell")
    run.set_defaults(func=_run)
    merge = commands.add_parser(
        "merge", help="append the records of split runs (one results file each) to one file"
    )
    merge.add_argument("parts", nargs="+", metavar="PART", help="results files of the split run")
    merge.add_argument(
        "--results", required=True, help="the results file to append to (made if missing)"
    )
    merge.set_defaults(func=_merge)
    report = commands.add_parser(
        "report", help="markdown tables and plots from a results file (regenerated each time)"
    )
    report.add_argument(
        "--results",
        nargs="+",
        default=None,
        help="results files, one section each (default: benchmarks/results/*.jsonl, *.json)",
    )
    report.add_argument("--output", default="docs/benchmarks.md")
    report.add_argument("--no-plot", action="store_true")
    report.add_argument(
        "--legacy-paper-rows",
        action="store_true",
        help="read skanogan 0.1.0's records (full/SCORE, whose defaults were the paper's "
        "settings) as the paper row paper/SCORE; without it they are left out",
    )
    report.set_defaults(func=_report)
    reproduce = commands.add_parser(
        "reproduce", help="refit one recorded skanogan cell and compare its AUROCs"
    )
    reproduce.add_argument("--results", required=True, help="a quality results file")
    reproduce.add_argument(
        "--cell", nargs=3, required=True, metavar=("DATASET", "CLASS", "SEED"), help="the cell"
    )
    reproduce.add_argument(
        "--weights",
        default=None,
        metavar="NAME",
        help="refit only this weight set (paper, default, an ablation's; skanogan 0.1.0's "
        "full is paper); default: every one recorded for the cell",
    )
    reproduce.add_argument(
        "--data-home", default=None, help="data folder (default: $SKANOGAN_DATA or pooch's cache)"
    )
    reproduce.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="largest AUROC difference counted as the same (default "
        "benchmarks.reproduce.TOLERANCE, 1e-6)",
    )
    reproduce.set_defaults(func=_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark command line; returns the exit code."""
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
