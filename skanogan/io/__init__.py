"""Persistence (internal): the model file format, atomic files, save/load and pickling, ONNX.

- :mod:`~skanogan.io._saving`: ``SavingMixin`` (``save``, ``load``, ``read_metadata``,
  ``export_onnx``, ``__getstate__``/``__setstate__``).
- :mod:`~skanogan.io._persistence`: the safetensors model file with its JSON header.
- :mod:`~skanogan.io._checkpoint`: training checkpoints keyed by configuration and data.
- :mod:`~skanogan.io._files`: atomic writes.
- :mod:`~skanogan.io._onnx`: the scoring graph exported for onnxruntime.
"""
