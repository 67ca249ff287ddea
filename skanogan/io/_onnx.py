"""ONNX export of a fitted detector's scoring graph, to score without PyTorch.

The exported graph is the whole of ``decision_function`` after input validation: the pixel
scaling learned in ``fit``, the resize/pad policy of :mod:`skanogan.core._shapes`,
``G_e → G_d → G_e'`` and the score of the detector's ``score_type``
(:mod:`skanogan.models.lran.scoring`), with every learned value baked in as a constant.

- Input ``x``: float32, ``(N, C, H, W)`` for image models and ``(N, n_features)`` for tabular
  ones, in the units given to ``fit`` (uint8 pixels as float32 0–255, say). ``N`` is dynamic.
- Output ``score``: float32 ``(N,)``, higher = more anomalous, as ``decision_function``.
- Output ``anomaly_map``: float32 ``(N, H, W)`` (``(N, n_features)`` for tabular models), as
  ``anomaly_map``.

The graph runs in float32 on the CPU copies of the networks. Tabular models, which score in
float64 in PyTorch, are exported in float32 too (ONNX Runtime lacks float64 kernels for some of
their layers), so their scores agree to about 1e-6 relative rather than exactly.

The model's ``metadata_props`` say what a pipeline needs to use it: ``skanogan_version``,
``score_type``, ``threshold`` (``predict`` is ``score > threshold``), ``input_layout``,
``input_shape`` and ``outputs``.

See Also
--------
skanogan.models.lran.scoring : the scores the graph reproduces.
skanogan.io._files : the atomic, no-overwrite writing of the file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from numbers import Integral
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skanogan.core._shapes import ImageGeometry, PixelScaler
from skanogan.io._files import check_output_path, write_atomically
from skanogan.models.lran.networks import GANetworks
from skanogan.models.lran.scoring import (
    ScoreStatistics,
    pixel_error,
    reconstruct_batch,
    score_batch,
)

__all__ = ["INPUT_NAME", "OUTPUT_NAMES", "ScoringGraph", "export_onnx"]

INPUT_NAME = "x"
OUTPUT_NAMES = ("score", "anomaly_map")
#: The oldest opset accepted (the TorchScript exporter writes it); the dynamo one starts at 18.
MIN_OPSET = 13
DYNAMO_MIN_OPSET = 18
#: Loggers that report the exporters' progress at INFO/WARNING level.
_EXPORTER_LOGGERS = ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir")
#: Modules whose warnings about the exporters themselves are hidden during the export.
_EXPORTER_MODULES = r"(torch|onnxscript|onnx_ir|onnx)(\.|$)"


class ScoringGraph(nn.Module):
    """``decision_function`` and ``anomaly_map`` of a fitted detector as one float32 module.

    Parameters
    ----------
    nets : GANetworks
        The fitted networks; ``G_e``, ``G_d`` and ``G_e'`` are copied to the CPU in float32
        and put in ``eval()`` mode (the detector's own networks are left untouched).
    pixel_scaler : PixelScaler
        The pixel scaling learned in ``fit``.
    geometry : ImageGeometry or None
        The size policy, ``None`` for tabular models.
    score_type : str
        One of :data:`skanogan.models.lran.scoring.SCORE_TYPES`.
    score_statistics : ScoreStatistics
        The fitted densities and training-score statistics that the score needs.

    The forward pass maps ``x`` (``(N, C, H, W)`` or ``(N, n_features)``, input units) to
    ``(score (N,), anomaly_map (N, H, W) or (N, n_features))``; the score is
    :func:`~skanogan.models.lran.scoring.score_batch`, the function ``decision_function`` uses.
    """

    def __init__(
        self,
        nets: GANetworks,
        pixel_scaler: PixelScaler,
        geometry: ImageGeometry | None,
        score_type: str,
        score_statistics: ScoreStatistics,
    ):
        super().__init__()
        self.encoder = _frozen_copy(nets.encoder)
        self.decoder = _frozen_copy(nets.decoder)
        self.aux_encoder = _frozen_copy(nets.aux_encoder)
        self.pixel_scaler = pixel_scaler
        self.geometry = geometry
        self.score_type = score_type
        self.score_statistics = score_statistics
        self.eval()

    def _to_network(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.geometry is None else self.geometry.to_network(x)

    def _to_input(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.geometry is None else self.geometry.to_input(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pixel_scaler.transform(x)
        # reconstruct_batch reads only the three generator networks, which this module holds.
        rec = reconstruct_batch(self, x, self._to_network, self._to_input)
        score = score_batch(self.score_type, x, rec, self.score_statistics)
        return score.to(torch.float32), pixel_error(x, rec.x_rec)


def _frozen_copy(module: nn.Module) -> nn.Module:
    module = copy.deepcopy(module).to("cpu", torch.float32).eval()
    module.requires_grad_(False)
    return module


def export_onnx(
    detector: Any, path: str | os.PathLike, *, overwrite: bool = False, opset: int | None = None
) -> Path:
    """Write the scoring graph of the fitted ``detector`` to ``path``; see the module docstring."""
    path = check_output_path(path)
    if opset is not None and (
        isinstance(opset, bool) or not isinstance(opset, Integral) or opset < MIN_OPSET
    ):
        raise ValueError(f"opset must be None or an int >= {MIN_OPSET}, got {opset!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")

    _import_onnx()  # fail early, saying what to install, before building the graph
    detector._check_score_type(detector._score_statistics())
    amp_dtype = getattr(detector, "amp_dtype_", None)
    if amp_dtype is not None:
        warnings.warn(
            f"this model trains and scores in {str(amp_dtype).removeprefix('torch.')} mixed "
            "precision, and the ONNX graph computes in float32: its scores differ from "
            "decision_function's by that rounding (up to a few percent), so compare them with "
            "threshold_ with care; fit with amp=False for a graph that matches to float32",
            UserWarning,
            stacklevel=3,
        )

    graph = ScoringGraph(
        detector.networks_,
        detector.pixel_scaler_,
        detector.geometry_,
        detector.score_type,
        detector._score_statistics(),
    )
    if detector.image_shape_ is None:
        sample_shape: tuple[int, ...] = (detector.n_features_in_,)
    else:
        sample_shape = tuple(detector.image_shape_)
    # Two samples: a batch of one would let the exporter specialise the batch axis to 1.
    example = torch.zeros((2, *sample_shape), dtype=torch.float32)
    model, exporter = _export(graph, example, None if opset is None else int(opset))
    _set_metadata(model, detector, sample_shape, exporter)
    write_atomically(path, model.SerializeToString(), overwrite=overwrite)
    return path


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "export_onnx needs the 'onnx' package (and 'onnxscript' for the exporter); "
            "install them with: pip install 'skanogan[onnx]'"
        ) from exc
    return onnx


def _export(graph: ScoringGraph, example: torch.Tensor, opset: int | None) -> tuple[Any, str]:
    """The ONNX ``ModelProto`` of ``graph`` and the name of the exporter that made it.

    The ``torch.export``-based ("dynamo") exporter, PyTorch's default, is tried first. It
    writes opset 18 or later only, so an older ``opset`` goes to the TorchScript exporter, as
    does any graph the dynamo exporter fails on (an old or missing ``onnxscript``, say): that
    one handles every operator used here too.
    """
    onnx = _import_onnx()
    dynamo_error = None
    if opset is None or opset >= DYNAMO_MIN_OPSET:
        try:
            with _quiet_exporter():
                program = torch.onnx.export(
                    graph,
                    (example,),
                    input_names=[INPUT_NAME],
                    output_names=list(OUTPUT_NAMES),
                    opset_version=opset,
                    dynamo=True,
                    dynamic_shapes={INPUT_NAME: {0: torch.export.Dim("batch")}},
                    external_data=False,
                    verbose=False,
                )
            return program.model_proto, "dynamo"
        except Exception as error:  # it raises many types; any of them means "fall back"
            dynamo_error = error
    try:
        with _quiet_exporter(), tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "model.onnx"
            torch.onnx.export(
                graph,
                (example,),
                target,
                input_names=[INPUT_NAME],
                output_names=list(OUTPUT_NAMES),
                opset_version=opset,
                dynamo=False,
                dynamic_axes={name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)},
            )
            return onnx.load_model_from_string(target.read_bytes()), "torchscript"
    except Exception as error:
        tried = "" if dynamo_error is None else f"dynamo ({dynamo_error!r}), then "
        raise RuntimeError(f"ONNX export failed: {tried}TorchScript ({error!r})") from error


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Hide the exporters' progress logs and their warnings about themselves.

    Errors still raise. Warnings from outside torch and onnxscript stay visible, except the
    tracer's note that the learned pixel scaling became constants: it is meant to.
    """
    loggers = [logging.getLogger(name) for name in _EXPORTER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.filterwarnings("ignore", category=category, module=_EXPORTER_MODULES)
            # Chosen on purpose, for opsets below 18 or as the fallback.
            warnings.filterwarnings(
                "ignore", "You are using the legacy TorchScript", DeprecationWarning
            )
            # torch's pytree deprecation surfaces through copyreg when the graph is copied.
            warnings.filterwarnings("ignore", category=FutureWarning, module="copyreg")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _set_metadata(model: Any, detector: Any, sample_shape: tuple[int, ...], exporter: str) -> None:
    from skanogan import __version__

    if detector.image_shape_ is None:
        layout = "N,F"
        map_shape = ["N", *sample_shape]
    else:
        layout = "N,C,H,W"
        map_shape = ["N", *sample_shape[1:]]
    props = {
        "skanogan_version": __version__,
        "estimator": type(detector).__name__,
        "score_type": detector.score_type,
        "threshold": repr(float(detector.threshold_)),
        "input_layout": layout,
        "input_shape": json.dumps(["N", *sample_shape]),
        "input_units": "float32, the units given to fit (scaling is inside the graph)",
        "outputs": json.dumps(
            {
                "score": {"shape": ["N"], "meaning": "higher = more anomalous"},
                "anomaly_map": {"shape": map_shape, "meaning": "|x - x_rec| in [-1, 1] units"},
            }
        ),
        "predict": "score > threshold",
        "exporter": exporter,
    }
    # The exporter's own props (none today) are kept; its producer_name stays "pytorch".
    merged = {entry.key: entry.value for entry in model.metadata_props} | props
    del model.metadata_props[:]
    for key, value in merged.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = (
        f"skanogan {type(detector).__name__} scoring graph (score_type={detector.score_type!r})"
    )
