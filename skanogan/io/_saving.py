"""Saving a fitted detector: the model file, ONNX export, and pickling across devices.

:class:`SavingMixin` gives :class:`~skanogan.LatentRegularizedGAN` its ``save``/``load``
(:mod:`skanogan.io._persistence` holds the file format), ``read_metadata``, ``export_onnx`` and the
``__getstate__``/``__setstate__`` pair that pickle, joblib and the model file share: networks
and optimizers leave as CPU state dicts and come back on the fitted device, or on the CPU with a
:class:`~skanogan.exceptions.DeviceWarning` when that device is missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from sklearn.utils.validation import check_is_fitted

from skanogan.core._device import amp_dtype_after_loading, device_for_unpickling, state_to_cpu
from skanogan.io._persistence import read_metadata, read_state, write_state

__all__ = ["SavingMixin"]

# Model files and pickles keep the key names of skanogan 0.1 (format 1), so that files written
# now stay readable by every release that reads their format version: each network under its
# fitted attribute's name (``encoder_``...), the optimizers under these names.
_OPTIMIZER_KEYS = {
    "g_optimizer": "generator",
    "d_optimizer": "discriminator",
    "grad_scaler": "scaler",
    "weight_average": "weight_average",
}


class SavingMixin:
    """``save``, ``load``, ``read_metadata``, ``export_onnx`` and pickling for the detector.

    The class using it keeps its networks in ``networks_`` and its optimizers in
    ``optimizers_`` (containers with ``state_dict``/``load_state_dict``), and provides
    ``_initialize_networks`` and ``_initialize_optimizers``, which rebuild them from state dicts
    on ``device_``, and
    ``_implicit_params``: parameters added after a file or pickle could have been written,
    mapped to the value that such an older detector was trained with.
    """

    _implicit_params: ClassVar[dict[str, Any]] = {}

    def save(
        self,
        path: str | os.PathLike,
        *,
        overwrite: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> Path:
        """Write the fitted detector to one file, safely and atomically.

        The file is safetensors (weights, optimizer state, score arrays) with the parameters,
        the other fitted attributes and the skanogan version as JSON in its header: loading it
        runs no code, unlike pickle or joblib files, which must only be loaded from trusted
        sources. The optimizer state is kept, so a loaded detector can go on training with
        ``warm_start=True``.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write, conventionally ``*.safetensors``. Its folder must exist.
        overwrite : bool, default=False
            Replace an existing file. Without it an existing file raises
            ``FileExistsError`` and is left untouched.
        metadata : dict, optional
            Your own JSON-serialisable information to keep with the model (e.g. how inputs
            were preprocessed); read it back with :meth:`read_metadata`.

        Returns
        -------
        path : pathlib.Path

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> from skanogan import LatentRegularizedGAN
        >>> X = np.random.default_rng(0).random((32, 8, 8))
        >>> detector = LatentRegularizedGAN(epochs=1, latent_dim=4, base_channels=4, random_state=0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = detector.fit(X).save(Path(folder) / "model.safetensors")
        ...     loaded = LatentRegularizedGAN.load(path)
        >>> bool(np.allclose(loaded.decision_function(X), detector.decision_function(X)))
        True
        """
        check_is_fitted(self)
        return write_state(
            path, type(self).__name__, self.__getstate__(), overwrite=overwrite, metadata=metadata
        )

    @classmethod
    def read_metadata(cls, path: str | os.PathLike) -> dict[str, Any]:
        """The ``metadata`` given to :meth:`save` (``{}`` if none), without loading weights.

        Raises the same errors as :meth:`load` for missing, foreign or newer files.
        """
        return read_metadata(path, cls.__name__)

    def export_onnx(
        self, path: str | os.PathLike, *, overwrite: bool = False, opset: int | None = None
    ) -> Path:
        """Write the scoring graph as an ONNX file, to score without PyTorch.

        The graph is ``decision_function`` after input validation: the pixel scaling, the
        resize/pad policy, ``G_e → G_d → G_e'`` and the ``score_type`` score, with the learned
        values as constants, in float32. Needs the ``onnx`` extra
        (``pip install 'skanogan[onnx]'``); the file is run with e.g. ``onnxruntime``.

        - Input ``"x"``: float32 ``(N, C, H, W)`` images (``(N, n_features)`` for tabular
          models) in the units given to :meth:`fit`; ``N`` is dynamic.
        - Output ``"score"``: float32 ``(N,)``, :meth:`decision_function`'s score (higher =
          more anomalous).
        - Output ``"anomaly_map"``: float32 ``(N, H, W)`` (``(N, n_features)``), as
          :meth:`anomaly_map`.

        Its ``metadata_props`` hold ``skanogan_version``, ``score_type``, ``threshold``
        (``predict`` is ``score > threshold``), ``input_layout``, ``input_shape`` and
        ``outputs``. Scores agree with :meth:`decision_function` to float32 precision (tabular
        models, scored in float64 by PyTorch, are exported in float32). A model that trains
        and scores in mixed precision (``amp_dtype_`` set) warns: its graph still computes in
        float32, so its scores differ from :meth:`decision_function`'s by that rounding.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write, conventionally ``*.onnx``. Its folder must exist.
        overwrite : bool, default=False
            Replace an existing file. Without it an existing file raises
            ``FileExistsError`` and is left untouched.
        opset : int or None, default=None
            ONNX opset version (at least 13); ``None`` lets the exporter choose.

        Returns
        -------
        path : pathlib.Path
        """
        check_is_fitted(self)
        from skanogan.io._onnx import export_onnx

        return export_onnx(self, path, overwrite=overwrite, opset=opset)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Read a detector written by :meth:`save`.

        A detector fitted on CUDA loads on a machine without CUDA onto the CPU, with a
        :class:`~skanogan.exceptions.DeviceWarning`. A file written by a newer skanogan in a
        format this version cannot read is refused with a ``ValueError``, as is any file that
        is not a skanogan model.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        detector : LatentRegularizedGAN
            Fitted, on the device it was fitted on when that device is available.
        """
        detector = cls.__new__(cls)
        detector.__setstate__(read_state(path, cls.__name__))
        return detector

    def __getstate__(self) -> dict[str, Any]:
        # object.__getstate__ hands back the live __dict__: copy it before taking networks out.
        state = dict(super().__getstate__())
        # The torch.compile wrappers go with networks_ (GANetworks.compiled), rebuilt on demand.
        if "networks_" in state:
            state["_network_states"] = {
                f"{name}_": state_to_cpu(part)
                for name, part in state.pop("networks_").state_dict().items()
            }
            optimizers = state.pop("optimizers_").state_dict()
            state["_optimizer_states"] = {
                _OPTIMIZER_KEYS[name]: state_to_cpu(part) for name, part in optimizers.items()
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        network_states = state.pop("_network_states", None)
        optimizer_states = state.pop("_optimizer_states", None)
        super().__setstate__({**self._implicit_params, **state})
        if network_states is None:
            return
        self.device_ = device_for_unpickling(self.device_)
        self.amp_dtype_ = amp_dtype_after_loading(self.amp_dtype_, self.device_)
        self._initialize_networks(
            torch.Generator(), states={k.removesuffix("_"): v for k, v in network_states.items()}
        )
        self._initialize_optimizers(
            states={
                name: optimizer_states[key]
                for name, key in _OPTIMIZER_KEYS.items()
                if key in optimizer_states
            }
        )
