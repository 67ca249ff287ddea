"""The ``skanogan`` console script: commands, input readers, output writers and the demo.

- :mod:`~skanogan.cli._commands`: the parser and the ``fit``, ``score``, ``mri fit/score``,
  ``info`` and ``demo`` commands (:func:`main` is the entry point).
- :mod:`~skanogan.cli._inputs`, :mod:`~skanogan.cli._outputs`: files in, tables and maps out.
- :mod:`~skanogan.cli.demo`: the digits demo behind ``skanogan demo``.
"""

from skanogan.cli._commands import build_parser, main, run_command

__all__ = ["build_parser", "main", "run_command"]
