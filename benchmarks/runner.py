"""The quality benchmark: detectors side by side on one-class tasks, one JSON line per cell.

A *cell* is one (dataset, class, detector, config, seed). Every detector of a task sees the same
training normals and the same test images (subsampled with the seed when the profile says so).
skanogan's configs are weight sets crossed with score types (:mod:`benchmarks.configs`): the
library's defaults and the paper's printed settings, each scored with every score type (the
paper's Table 6), and the loss ablation (Tables 3–4) scored with the library's default score and
the paper's latent one. One fit per weight set serves all of its score types.

Results are appended to a JSON-lines file, one record per cell, written and flushed as soon as
the cell ends. A rerun skips every cell already in the file, so an interrupted run resumes where it
stopped and a long profile can be completed over several runs.

See Also
--------
benchmarks.detectors : how each detector is built, fed and scored.
benchmarks.report : the markdown tables and plots made from the results.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import resource
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sklearn
import torch
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

import skanogan
from benchmarks import detectors as det
from benchmarks.configs import (
    ABLATIONS,
    MAIN_WEIGHTS,
    config_params,
    default_score_type,
    is_legacy,
    json_params,
    library_defaults,
    numbered_records,
)
from skanogan.model_selection import one_class_split
from skanogan.scoring import SCORE_TYPES

__all__ = ["ABLATIONS", "PROFILES", "Profile", "Task", "plan", "run"]


@dataclass(frozen=True)
class Profile:
    """What one ``python -m benchmarks run --profile NAME`` covers.

    ``n_train`` / ``n_test`` cap the normal training images and the test images of each task
    (random, stratified subsamples drawn with the seed); ``None`` keeps them all. ``settings``
    goes to :func:`benchmarks.detectors.make_detector` (``epochs`` and skanogan's own
    parameters): the only overrides of skanogan's defaults besides its config's weight set.
    ``ablation_datasets`` are the datasets on which skanogan also runs the ``ablations``
    weight sets (names of :data:`ABLATIONS`); ``weights`` are skanogan's weight sets of the
    main tables (``"default"``, ``"paper"``). ``on_request``
    are datasets (with their ``classes``) run only when named with ``--datasets``: data that
    not every machine has. ``image_size`` shrinks a dataset's images to that side (area
    averaging, the same for every detector) before anything is fitted.
    """

    name: str
    datasets: tuple[str, ...]
    classes: dict[str, tuple[int, ...]]
    seeds: tuple[int, ...]
    detectors: tuple[str, ...]
    n_train: int | None
    n_test: int | None
    settings: dict[str, Any]
    ablation_datasets: tuple[str, ...] = ()
    on_request: tuple[str, ...] = ()
    ablations: tuple[str, ...] = tuple(ABLATIONS)
    weights: tuple[str, ...] = MAIN_WEIGHTS
    image_size: dict[str, int] = field(default_factory=dict)
    description: str = ""

    def configs(
        self, dataset: str, detector: str, *, ablation: bool = False
    ) -> list[tuple[str, dict, tuple[str, ...]]]:
        """(weights name, skanogan parameters, score types) fitted for one dataset/detector.

        ``ablation=False`` gives the main table's fits: skanogan's ``weights`` (its defaults
        and the paper's settings), each scored with every score
        type, and every PyOD detector once. ``ablation=True`` gives the weight sets of the loss
        ablation, fitted only on ``ablation_datasets`` and scored with the installed skanogan's
        default score and the paper's latent score.
        """
        if ablation:
            if detector != "skanogan" or dataset not in self.ablation_datasets:
                return []
            scores = tuple(dict.fromkeys((default_score_type(), "latent")))
            return [(name, config_params(name), scores) for name in self.ablations]
        if detector != "skanogan":
            return [("default", {}, ("default",))]
        return [(name, config_params(name), tuple(SCORE_TYPES)) for name in self.weights]


_ALL = tuple(range(10))
PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        datasets=("mnist",),
        classes={"mnist": (0, 1, 2)},
        seeds=(0, 1),
        detectors=det.DETECTORS,
        n_train=600,
        n_test=500,
        settings={"epochs": 15, "skanogan": {"base_channels": 32}},
        ablation_datasets=("mnist",),
        description="three MNIST classes, 600 training normals and 500 test images per task, "
        "two seeds, 15 epochs, skanogan at base_channels=32 (five skanogan fits per task: its "
        "defaults, the paper's settings, three ablation weight sets; about 15 minutes on 2 "
        "cores at skanogan 0.1.0's fit times)",
    ),
    "paper": Profile(
        name="paper",
        datasets=("mnist", "fashion_mnist", "elpv"),
        classes={"mnist": _ALL, "fashion_mnist": _ALL, "elpv": (0,), "cifar10": _ALL},
        seeds=(0, 1, 2),
        detectors=det.DETECTORS,
        n_train=None,
        n_test=2000,
        settings={"epochs": 15, "skanogan": {"base_channels": 32}, "per_sample_scoring": False},
        # MNIST's loss ablation is the ablation profile's (2,000 normals per class).
        ablation_datasets=("cifar10",),
        on_request=("cifar10",),
        image_size={"elpv": 64},
        description="the paper's protocol: all training normals of each class, 15 epochs, "
        "2,000 test images per task; skanogan at base_channels=32 so that the MNIST table "
        "(10 classes x 3 seeds) fits in about 3 CPU-hours on 2 cores; ELPV cells shrunk "
        "from 150 to 64 px (area mean); ECOD scored in one batch (about 1.3 s per image one "
        "at a time against 6,000 training images), flagged; CIFAR-10 (the paper's Tables 2, "
        "3 and 6, with the loss ablation) only with `--datasets cifar10`, from a user's "
        "copy of the data",
    ),
    "ablation": Profile(
        name="ablation",
        datasets=("mnist",),
        classes={"mnist": _ALL},
        seeds=(0, 1, 2),
        detectors=("skanogan",),
        n_train=2000,
        n_test=2000,
        settings={"epochs": 15, "skanogan": {"base_channels": 32}},
        ablation_datasets=("mnist",),
        weights=("paper",),
        description="the loss ablation of the paper's Table 3 on MNIST: the paper's settings and "
        "the same with terms switched off, 10 classes x 3 seeds, 2,000 training normals per "
        "class (a random subsample drawn with the seed, so that the 120 fits take about 3 "
        "CPU-hours) and 2,000 test images, 15 epochs, base_channels=32; the paper's settings are "
        "scored with every score type, the ablation's weight sets with the library's default "
        "score and the paper's latent one",
    ),
}


@dataclass
class Task:
    """One one-class task: normals to train on, test images, labels (1 = anomaly)."""

    dataset: str
    normal_class: int
    seed: int
    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def _channels_first(images: np.ndarray) -> np.ndarray:
    return images[:, None] if images.ndim == 3 else images


def _shrink(images: np.ndarray, side: int | None) -> np.ndarray:
    """Area-average uint8 images down to ``side`` x ``side`` (unchanged if already smaller)."""
    if side is None or max(images.shape[-2:]) <= side:
        return images
    shrunk = torch.nn.functional.interpolate(
        torch.from_numpy(images).float(), size=(side, side), mode="area"
    )
    return shrunk.round().clamp(0, 255).to(torch.uint8).numpy()


@functools.lru_cache(maxsize=2)
def _load_dataset(dataset: str, data_home: str | None) -> Any:
    """A data set's Bunch, read once per run: the plan revisits each data set once per detector."""
    from skanogan import datasets

    loaders = {
        "digits": lambda _: datasets.load_digits(),
        "elpv": datasets.load_elpv,
        "mnist": datasets.load_mnist,
        "fashion_mnist": datasets.load_fashion_mnist,
        # CIFAR-10 runs wherever a user has it (these machines hold only 20 test images).
        "cifar10": datasets.load_cifar10,
    }
    if dataset not in loaders:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {list(loaders)}")
    data = loaders[dataset](data_home)
    if "images_train" in data and len(data.images_train) == 0:
        raise ValueError(
            f"{dataset} in {datasets.get_data_home(data_home)} has test images only (a sample "
            f"of the data set): the benchmark needs the whole of it, see "
            f"skanogan.datasets.fetch_{dataset}"
        )
    return data


def load_task(
    dataset: str, normal_class: int, seed: int, profile: Profile, data_home: str | None
) -> Task:
    """Build one task with the profile's subsampling; the same for every detector."""
    data = _load_dataset(dataset, data_home)
    if dataset in ("digits", "elpv"):
        # No official split: a stratified half, drawn with the seed. ELPV class 0 = functional.
        split = one_class_split(
            data.images, data.target, normal_class, test_size=0.5, random_state=seed
        )
    else:
        split = one_class_split(
            data.images_train,
            data.target_train,
            normal_class,
            X_test=data.images_test,
            y_test=data.target_test,
        )
    rng = np.random.default_rng(seed)
    X_train, X_test, y_test = split
    if profile.n_train is not None and len(X_train) > profile.n_train:
        X_train = X_train[np.sort(rng.choice(len(X_train), profile.n_train, replace=False))]
    if profile.n_test is not None and len(X_test) > profile.n_test:
        keep = []
        for label in (0, 1):
            members = np.flatnonzero(y_test == label)
            n_keep = max(1, round(profile.n_test * len(members) / len(y_test)))
            keep.append(rng.choice(members, min(n_keep, len(members)), replace=False))
        keep = np.sort(np.concatenate(keep))
        X_test, y_test = X_test[keep], y_test[keep]
    side = profile.image_size.get(dataset)
    return Task(
        dataset,
        normal_class,
        seed,
        _shrink(_channels_first(X_train), side),
        _shrink(_channels_first(X_test), side),
        y_test,
        {"n_train": len(X_train), "n_test": len(X_test), "anomaly_rate": float(y_test.mean())},
    )


def plan(profile: Profile) -> Iterator[tuple[str, int, int, str, str, dict, tuple[str, ...]]]:
    """Every fit of the profile: (dataset, class, seed, detector, weights, params, score types).

    The main table of every dataset comes first and the loss ablation after it; within them,
    one detector at a time over every class and seed (skanogan first, then the PyOD detectors
    in profile order). A long profile stopped part-way thus has complete rows for the
    detectors it reached instead of every detector on a few classes.
    """
    for ablation in (False, True):
        for dataset in profile.datasets:
            for detector in profile.detectors:
                for normal_class in profile.classes[dataset]:
                    for seed in profile.seeds:
                        for weights, params, score_types in profile.configs(
                            dataset, detector, ablation=ablation
                        ):
                            yield (
                                dataset,
                                normal_class,
                                seed,
                                detector,
                                weights,
                                params,
                                score_types,
                            )


_Profile = TypeVar("_Profile")


def named_profile(profiles: Mapping[str, _Profile], name: str, suite: str) -> _Profile:
    """The profile called ``name`` among ``profiles`` (a suite's table of them).

    Raises
    ------
    ValueError
        Naming the suite and every profile it has, when ``name`` is not one of them.
    """
    if name not in profiles:
        raise ValueError(
            f"--profile must be one of {', '.join(profiles)} for the {suite} suite, got {name!r}"
        )
    return profiles[name]


def profile_subset(
    option: str, chosen: Iterable[str], planned: tuple[str, ...], profile: str
) -> tuple[str, ...]:
    """The names of ``planned`` (a profile's field ``option``) that are in ``chosen``, in the
    profile's order: a subset run with ``--OPTION NAME…``.

    Raises
    ------
    ValueError
        Naming the option and every chosen name the profile does not plan.
    """
    chosen = set(chosen)
    unknown = sorted(chosen - set(planned))
    if unknown:
        raise ValueError(
            f"--{option}: {', '.join(unknown)} not in the {profile} profile "
            f"(its {option}: {', '.join(planned)})"
        )
    return tuple(name for name in planned if name in chosen)


def cell_key(dataset: str, normal_class: int, detector: str, config: str, seed: int) -> str:
    """The identity of a result: one record per key in the results file."""
    return json.dumps([dataset, normal_class, detector, config, seed])


def done_cells(records: Iterable[dict[str, Any]]) -> set[str]:
    """The :func:`cell_key` of every record but skanogan 0.1.0's (refitted under new names)."""
    return {
        cell_key(*(r[k] for k in ("dataset", "class", "detector", "config", "seed")))
        for r in records
        if not is_legacy(r)
    }


def fold_cells(records: Iterable[Mapping[str, Any]], suite: str) -> set[str]:
    """The :func:`cell_key` of every record of ``suite``, an MRI suite whose cells are folds."""
    return {
        cell_key(r["dataset"], r["fold"], r["detector"], r["config"], r["seed"])
        for r in records
        if r.get("suite") == suite
    }


def pending(
    profile: Profile, done: set[str]
) -> Iterator[tuple[tuple[str, int, int, str, str, dict, tuple[str, ...]], dict[str, str]]]:
    """The fits of :func:`plan` that still lack a record in ``done``, in plan order, each with
    ``{score type: config}`` of the records it has yet to write."""
    for fit in plan(profile):
        dataset, normal_class, seed, detector, weights, _, score_types = fit
        configs = {s: (weights if s == "default" else f"{weights}/{s}") for s in score_types}
        todo = {
            s: config
            for s, config in configs.items()
            if cell_key(dataset, normal_class, detector, config, seed) not in done
        }
        if todo:
            yield fit, todo


def read_results(path: Path) -> list[dict[str, Any]]:
    """All records of a results file (a missing file has none; a torn last line is ignored)."""
    return [record for _, record in numbered_records(path)]


#: Prefixes of the commands recorded while the harness shipped inside the skanogan package, and
#: their spelling since it moved to the repository's ``benchmarks/`` (same options).
_MOVED_COMMANDS = {
    "skanogan benchmark ": "python -m benchmarks ",
    "python -m skanogan.benchmark.": "python -m benchmarks.",
}


def rerun_command(recorded: str) -> str:
    """The command that reruns a record today: ``recorded`` in the harness's current spelling.

    Results files are kept as written, so the older ones name the commands of the harness's
    former home (``skanogan benchmark run …``); reports cite what reruns them now.

    Parameters
    ----------
    recorded : str
        A record's ``"command"``.

    Returns
    -------
    command : str

    Examples
    --------
    >>> rerun_command("skanogan benchmark run --suite speed --profile quick")
    'python -m benchmarks run --suite speed --profile quick'
    >>> rerun_command("python -m skanogan.benchmark.below_chance")
    'python -m benchmarks.below_chance'
    >>> rerun_command("python -m benchmarks report")
    'python -m benchmarks report'
    """
    for old, new in _MOVED_COMMANDS.items():
        if recorded.startswith(old):
            return new + recorded.removeprefix(old)
    return recorded


def append_records(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Append one JSON line per record, flushed and fsynced: a killed run loses no finished cell.

    Returns the number of records written.
    """
    lines = [json.dumps(record) + "\n" for record in records]
    with path.open("a") as out:
        out.writelines(lines)
        out.flush()
        os.fsync(out.fileno())
    return len(lines)


def drop_torn_tail(path: Path) -> None:
    """Cut a partial last line (a run killed mid-write) so the next record starts a line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as results:
        results.seek(-1, os.SEEK_END)
        if results.read(1) == b"\n":
            return
        results.seek(0)
        data = results.read()
        results.truncate(data.rfind(b"\n") + 1)


def record_key(record: Mapping[str, Any]) -> str:
    """The identity of a record of any JSON-lines suite: its suite and its :func:`cell_key`
    (``class`` for the quality suite, ``fold`` for the MRI suites)."""
    place = record["class"] if "class" in record else record["fold"]
    cell = cell_key(record["dataset"], place, record["detector"], record["config"], record["seed"])
    return json.dumps([record.get("suite", "quality"), cell])


def merge_results(parts: Iterable[Path], results: Path) -> tuple[int, int]:
    """Append to ``results`` the records of ``parts`` that it lacks, and their montages.

    ``parts`` are the results files of one profile split over processes (``--heads``,
    ``--patients``, ``--detectors``…). A record whose :func:`record_key` is already in
    ``results`` (or in an earlier part) is skipped, so a merge can be repeated. The PNGs that a
    suite writes beside a part (``PART/NAME.png``) are copied beside ``results`` when no file of
    that name is there yet.

    Returns
    -------
    written, skipped : int
        Records appended, and records skipped as already present.
    """
    parts, results = [Path(p) for p in parts], Path(results)
    for part in parts:
        if not part.is_file():
            raise ValueError(f"no results file at {part}")
        if part.resolve() == results.resolve():
            raise ValueError(f"{part} is the file merged into; name it once, as --results")
    seen = {record_key(r) for r in read_results(results)}
    new, skipped = [], 0
    for part in parts:
        for record in read_results(part):
            key = record_key(record)
            if key in seen:
                skipped += 1
            else:
                seen.add(key)
                new.append(record)
    results.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_tail(results)
    written = append_records(results, new)
    for part in parts:
        for png in sorted(part.with_suffix("").glob("*.png")):
            target = results.with_suffix("") / png.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(png, target)
    return written, skipped


class PeakMemory:
    """Peak resident memory (MiB) of this process while the block runs; CUDA peak too.

    ``host_mib`` is the peak RSS, which includes the pages of memory-mapped files read in the
    block (page cache, which the kernel can drop); ``anon_mib`` is the peak of the process's
    own (anonymous) memory alone, sampled every 50 ms (Linux; ``None`` elsewhere).
    """

    def __enter__(self) -> PeakMemory:
        self.host_mib = self.rss_mib()
        self.anon_mib = self.anon_rss_mib()
        self.device_mib: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self._update()

    def _update(self) -> None:
        self.host_mib = max(self.host_mib, self.rss_mib())
        anon = self.anon_rss_mib()
        if anon is not None:
            self.anon_mib = max(self.anon_mib or 0.0, anon)

    @staticmethod
    def rss_mib() -> float:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @staticmethod
    def anon_rss_mib() -> float | None:
        """The process's anonymous resident memory (``RssAnon``), without mapped files."""
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return None

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._update()
        if torch.cuda.is_available():
            self.device_mib = torch.cuda.max_memory_allocated() / 2**20


def _roc_points(y: np.ndarray, scores: np.ndarray, n: int = 51) -> list[list[float]]:
    fpr, tpr, _ = roc_curve(y, scores)
    grid = np.linspace(0, 1, n)
    return [grid.round(4).tolist(), np.interp(grid, fpr, tpr).round(4).tolist()]


def environment() -> dict[str, Any]:
    """Versions and hardware written beside every record."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "skanogan": skanogan.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pyod": _version("pyod"),
    }


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _scoring_label(detector: str, settings: dict[str, Any]) -> str:
    mode = det.spec(detector).scoring
    if mode == "per_sample" and not settings.get("per_sample_scoring", True):
        return "batch (flagged: uses test-batch statistics)"
    return mode


def precision_name(amp_dtype: torch.dtype | None) -> str:
    """What trained a skanogan model: ``"float32"`` or its autocast dtype (``"bfloat16"``)."""
    return "float32" if amp_dtype is None else str(amp_dtype).removeprefix("torch.")


def fit_and_score(
    detector: str, settings: dict[str, Any], task: Task, score_types: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], float, float, PeakMemory, dict[str, dict[str, Any]], str | None]:
    """Fit one detector on ``task`` and score its test images with each of ``score_types``.

    Returns
    -------
    scores : dict
        ``{score type: scores of the test images}``.
    fit_seconds, score_seconds : float
        Wall time of the fit; of one scoring (mean over the score types).
    memory : PeakMemory
    params : dict
        ``{score type: JSON parameters of the model as it scored}`` for skanogan, else empty.
    precision : str or None
        What trained skanogan's networks (``"float32"``, ``"bfloat16"``: ``amp="auto"``
        depends on the CPU); ``None`` for the other detectors.
    """
    model = det.make_detector(detector, seed=task.seed, settings=settings)
    X_train = det.prepare_inputs(detector, task.X_train)
    X_test = det.prepare_inputs(detector, task.X_test)
    with PeakMemory() as memory, warnings.catch_warnings():
        # The paper's ablation scores its w_zrec=0 rows by the latent score too; the report
        # says so once instead of a warning per fit.
        warnings.filterwarnings("ignore", message="w_zrec=0", category=UserWarning)
        start = time.perf_counter()
        model.fit(X_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        scores, params = {}, {}
        for score_type in score_types:
            if score_type != "default":
                model.set_params(score_type=score_type)
                params[score_type] = json_params(model.get_params())
            scores[score_type] = det.score(
                detector, model, X_test, per_sample=settings.get("per_sample_scoring", True)
            )
        score_seconds = (time.perf_counter() - start) / len(score_types)
    precision = None
    if detector == "skanogan":
        precision = precision_name(model.amp_dtype_)
    return scores, fit_seconds, score_seconds, memory, params, precision


def fit_settings(profile_settings: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The profile's settings with a config's skanogan ``params`` added (they take precedence)."""
    return {
        **profile_settings,
        "skanogan": {**profile_settings.get("skanogan", {}), **params},
    }


def run(
    profile: Profile,
    results: Path,
    *,
    data_home: str | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run every cell of ``profile`` not yet in ``results``; returns the number of new records."""
    done = done_cells(read_results(results))
    results.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_tail(results)
    env = environment()
    # What "default/..." means for the records of this run: the installed library's defaults.
    defaults = library_defaults()
    # The current task is kept while consecutive fits share it; datasets are cached.
    task: Task | None = None
    written = 0
    for fit, configs in pending(profile, done):
        dataset, normal_class, seed, detector, _, params, _ = fit
        wanted = (dataset, normal_class, seed)
        if task is None or (task.dataset, task.normal_class, task.seed) != wanted:
            task = load_task(*wanted, profile, data_home)
        settings = fit_settings(profile.settings, params)
        scores, fit_s, score_s, memory, fitted, precision = fit_and_score(
            detector, settings, task, tuple(configs)
        )
        records = []
        for score_type, values in scores.items():
            # skanogan's records say what they were fitted with and on which defaults, so
            # the report can refuse one whose name claims other settings.
            provenance = (
                {"params": fitted[score_type], "defaults": defaults, "precision": precision}
                if score_type in fitted
                else {}
            )
            record = {
                "dataset": dataset,
                "class": normal_class,
                "detector": detector,
                "config": configs[score_type],
                "seed": seed,
                "auroc": float(roc_auc_score(task.y_test, values)),
                "ap": float(average_precision_score(task.y_test, values)),
                "fit_seconds": fit_s,
                "score_seconds": score_s,
                # Training images per second of fit, all epochs included: comparable
                # across detectors whatever their number of passes.
                "train_images_per_s": task.meta["n_train"] / fit_s,
                "score_images_per_s": task.meta["n_test"] / score_s,
                "peak_host_mib": round(memory.host_mib, 1),
                "peak_device_mib": memory.device_mib,
                "roc": _roc_points(task.y_test, values),
                "profile": profile.name,
                # The profile's stated overrides only; the config's own are in "params".
                "settings": json_params(profile.settings),
                **provenance,
                "scoring": _scoring_label(detector, settings),
                **task.meta,
                "environment": env,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            records.append(record)
        written += append_records(results, records)
        best = ", ".join(
            f"{configs[s]}={roc_auc_score(task.y_test, v):.3f}" for s, v in scores.items()
        )
        log(
            f"{dataset} class {normal_class} seed {seed} {detector}: "
            f"AUROC {best} ({fit_s:.0f}s fit)"
        )
    return written
