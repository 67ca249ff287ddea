"""Benchmarks: skanogan beside PyOD's detectors on the paper's one-class protocol.

- :mod:`skanogan.benchmark.detectors`: how each detector is built, fed and scored.
- :mod:`skanogan.benchmark.runner`: profiles, tasks and the resumable JSON-lines runner.
- :mod:`skanogan.benchmark.report`: markdown tables and plots for ``docs/benchmarks.md``.

Run with ``skanogan benchmark run --suite quality --profile quick|paper`` and
``skanogan benchmark report``; PyOD and matplotlib come with ``pip install 'skanogan[bench]'``.
"""
