"""skanogan's configurations in the quality benchmark, what their records store and claim.

A skanogan record is named ``WEIGHTS/SCORE``: ``WEIGHTS`` is ``"default"`` (the library's
defaults), ``"paper"`` (:data:`skanogan.PAPER_SETTINGS`, the paper's printed settings) or a
weight set of the loss ablation (:data:`ABLATIONS`: the paper's settings with terms switched
off, as the paper's Table 3 does); ``SCORE`` is one of :data:`skanogan.scoring.SCORE_TYPES`.
Every parameter not set by the configuration or stated by the profile is the library's default.

Each record stores the parameters its model had (``"params"``, :func:`json_params` of
``get_params()``) and the library defaults it was built on (``"defaults"``).
:func:`check_record` compares them with what the record's name claims, so that a record cannot
sit in a row whose settings it does not have (a record of older defaults under ``default/…``,
say).

Records of skanogan 0.1.0 predate these names and store no parameters. Their defaults were
exactly :data:`~skanogan.PAPER_SETTINGS`, so ``full/SCORE`` was the paper's settings scored by
``SCORE`` and the ablation's ``WEIGHTS/latent`` the paper's settings with terms off:
:data:`LEGACY_CONFIGS` reads them so, and only when asked (:func:`read_checked`'s
``legacy_paper_rows``; ``python -m benchmarks reproduce`` refits one of their cells to show
that today's code gives the same AUROC).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import skanogan
from benchmarks import detectors as det
from skanogan import PAPER_SETTINGS, LatentRegularizedGAN

__all__ = [
    "ABLATIONS",
    "LEGACY_CONFIGS",
    "LEGACY_VERSION",
    "MAIN_WEIGHTS",
    "check_record",
    "config_params",
    "default_score_type",
    "is_legacy",
    "json_params",
    "library_defaults",
    "numbered_records",
    "read_checked",
]

#: Loss terms switched off from the paper's settings in the paper's ablation (Tables 3–4).
ABLATIONS: dict[str, dict[str, float]] = {
    "irec_adv": {"w_zrec": 0.0, "w_rank": 0.0},
    "irec_adv_rank": {"w_zrec": 0.0},
    "irec_adv_zrec": {"w_rank": 0.0},
}

#: skanogan's fits in every main table, each scored with every score type.
MAIN_WEIGHTS: tuple[str, ...] = ("default", "paper")

#: The skanogan version whose records predate the config names and stored parameters.
LEGACY_VERSION = "0.1.0"
#: Its config names and what they were: 0.1.0's defaults were exactly PAPER_SETTINGS, so its
#: "full" model was the paper's settings and its ablation the paper's settings with terms off.
LEGACY_CONFIGS: dict[str, str] = {
    **{f"full/{score}": f"paper/{score}" for score in ("latent", "image", "combined")},
    **{f"{weights}/latent": f"{weights}/latent" for weights in ABLATIONS},
}


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``params`` that JSON can hold, as a JSON round trip gives them back.

    Tuples become lists, so that stored and recomputed parameters compare equal; values JSON
    cannot write (a ``numpy`` generator as ``random_state``, a ``torch.device``) are left out.

    Parameters
    ----------
    params : dict
        ``get_params()`` of an estimator.

    Returns
    -------
    params : dict

    Examples
    --------
    >>> json_params({"image_shape": (1, 8, 8), "device": object(), "w_adv": 1.0})
    {'image_shape': [1, 8, 8], 'w_adv': 1.0}
    """
    kept = {}
    for name, value in params.items():
        try:
            kept[name] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            continue
    return kept


def library_defaults() -> dict[str, Any]:
    """The parameters of ``LatentRegularizedGAN()`` of the installed skanogan, as JSON."""
    return json_params(LatentRegularizedGAN().get_params())


def default_score_type() -> str:
    """The installed skanogan's default ``score_type``, read at run time (it changes)."""
    return LatentRegularizedGAN().score_type


def config_params(weights: str) -> dict[str, Any]:
    """The parameters weight set ``weights`` sets over the library defaults (not the score).

    Parameters
    ----------
    weights : str
        ``"default"``, ``"paper"`` or a name of :data:`ABLATIONS`.

    Returns
    -------
    params : dict

    Examples
    --------
    >>> config_params("default")
    {}
    >>> config_params("irec_adv")["w_zrec"], config_params("irec_adv")["w_adv"]
    (0.0, 5.0)
    """
    if weights == "default":
        return {}
    paper = {name: value for name, value in PAPER_SETTINGS.items() if name != "score_type"}
    if weights == "paper":
        return paper
    if weights not in ABLATIONS:
        raise ValueError(f"unknown skanogan config {weights!r}")
    return {**paper, **ABLATIONS[weights]}


def is_legacy(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a skanogan record without stored parameters (skanogan 0.1.0)."""
    return record["detector"] == "skanogan" and "params" not in record


def numbered_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number from 1, record) of every readable line of a results file.

    A torn last line (a run killed mid-write) is skipped: its cell reruns.
    """
    if not path.exists():
        return
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError:
            continue


def _differences(stored: dict[str, Any], claimed: dict[str, Any]) -> list[str]:
    names = sorted(set(stored) | set(claimed))
    return [
        f"{name}={stored.get(name, '(missing)')!r} (claimed {claimed.get(name, '(missing)')!r})"
        for name in names
        if stored.get(name, "(missing)") != claimed.get(name, "(missing)")
    ]


def claimed_params(record: dict[str, Any]) -> dict[str, Any]:
    """The parameters a new-style skanogan record claims by its name, profile and seed.

    The defaults it was built on, the harness's and profile's settings
    (:func:`benchmarks.detectors.skanogan_params`), then its weight set and score type.
    """
    weights, score = record["config"].split("/")
    harness = det.skanogan_params(seed=record["seed"], settings=record["settings"])
    return json_params(
        {**record["defaults"], **harness, **config_params(weights), "score_type": score}
    )


def check_record(record: dict[str, Any], where: str) -> None:
    """Raise unless a new-style skanogan record has the settings its name claims.

    Its ``params`` must equal :func:`claimed_params`; a record written by the installed
    skanogan version must claim this version's defaults; a record of a known profile must
    carry that profile's stated settings.

    Parameters
    ----------
    record : dict
        A record with ``"params"``.
    where : str
        Where it was read (``file:line``), for the message.

    Raises
    ------
    ValueError
        Naming ``where``, the record's cell and every differing parameter.
    """
    from benchmarks.runner import PROFILES

    cell = (
        f"{where}: {record['dataset']} class {record['class']} seed {record['seed']} "
        f"{record['config']}"
    )
    problems = []
    profile = PROFILES.get(record["profile"])
    if profile is not None and record["settings"] != json_params(profile.settings):
        problems.append(
            f"settings {record['settings']} are not the {profile.name} profile's {profile.settings}"
        )
    if record["environment"]["skanogan"] == skanogan.__version__:
        wrong = _differences(record["defaults"], library_defaults())
        if wrong:
            problems.append(
                f"its defaults are not skanogan {skanogan.__version__}'s: " + ", ".join(wrong)
            )
    wrong = _differences(record["params"], claimed_params(record))
    if wrong:
        problems.append("its parameters differ from what its name claims: " + ", ".join(wrong))
    if problems:
        raise ValueError(
            f"{cell}: " + "; ".join(problems) + ". Refusing to report it: rerun the cell "
            "(delete the record first) or fix its config name."
        )


def read_checked(path: Path, *, legacy_paper_rows: bool = False) -> list[dict[str, Any]]:
    """The records of a quality results file, every skanogan record checked or refused.

    Parameters
    ----------
    path : Path
        A JSON-lines results file of :func:`benchmarks.runner.run`.
    legacy_paper_rows : bool, default=False
        Read skanogan 0.1.0's records through :data:`LEGACY_CONFIGS` (``full/SCORE`` as
        ``paper/SCORE``, marked ``"legacy": True``), except where a new record of the same cell
        exists. ``False`` leaves them out, with a warning on stderr.

    Returns
    -------
    records : list of dict

    Raises
    ------
    ValueError
        For a skanogan record whose settings differ from its name's claim
        (:func:`check_record`), or one without parameters that is not a 0.1.0 record of a
        :data:`LEGACY_CONFIGS` name.
    """
    import sys

    from benchmarks.runner import cell_key

    records, legacy = [], []
    for number, record in numbered_records(path):
        where = f"{path}:{number}"
        if not is_legacy(record):
            if record["detector"] == "skanogan":
                check_record(record, where)
            records.append(record)
            continue
        version = record["environment"]["skanogan"]
        if version != LEGACY_VERSION or record["config"] not in LEGACY_CONFIGS:
            raise ValueError(
                f"{where}: skanogan {version} record {record['config']!r} stores no "
                f"parameters and is not a skanogan {LEGACY_VERSION} record of "
                f"{sorted(LEGACY_CONFIGS)}: refusing to report it"
            )
        legacy.append({**record, "config": LEGACY_CONFIGS[record["config"]], "legacy": True})
    if not legacy_paper_rows:
        if legacy:
            print(
                f"warning: {path}: {len(legacy)} skanogan {LEGACY_VERSION} records left out "
                "(config names before 'paper'/'default'); --legacy-paper-rows reads them as "
                "the paper's settings",
                file=sys.stderr,
            )
        return records

    def key(r: dict[str, Any]) -> str:
        return cell_key(r["dataset"], r["class"], r["detector"], r["config"], r["seed"])

    rerun = {key(r) for r in records}
    return records + [r for r in legacy if key(r) not in rerun]
