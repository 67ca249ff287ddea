"""Benchmarks: skanogan beside PyOD's detectors on the paper's one-class protocol.

The harness lives at the repository's root, not in the installed package (it patches PyOD's
detectors, reseeds global generators and writes into the repository), and runs from a clone:
``python -m benchmarks run --suite quality|mri|speed --profile quick|paper`` and
``python -m benchmarks report`` (:mod:`benchmarks.__main__`); PyOD, pandas and matplotlib come
with ``pip install -e '.[bench]'``.

- :mod:`benchmarks.detectors`: how each detector is built, fed and scored.
- :mod:`benchmarks.runner`: profiles, tasks and the resumable JSON-lines runner.
- :mod:`benchmarks.configs`: skanogan's configs (``default``, ``paper``, the loss ablation),
  the parameters each record stores and the check that refuses a record claiming others.
- :mod:`benchmarks.reproduce`: refit one recorded cell and compare its AUROCs.
- :mod:`benchmarks.mri`, :mod:`benchmarks.speed`: the brain-MRI and speed suites.
- :mod:`benchmarks.report`: markdown tables and plots for ``docs/benchmarks.md`` (with
  :mod:`benchmarks.mri_report` and :mod:`benchmarks.speed_report`).
- :mod:`benchmarks.below_chance`: why two PyOD rows rank anomalies below chance.
- :mod:`benchmarks.validation`: the sweep that chooses skanogan's defaults on training data.
"""
