"""The anomaly scores: :data:`SCORE_TYPES` and the statistics fitted for them.

The implementation is :mod:`skanogan.models.lran.scoring`. This module keeps the names users and
the benchmark harness import (``from skanogan.scoring import SCORE_TYPES``), and the path under
which pickles made before skanogan's restructuring name ``GaussianDensity`` and ``ScoreScaler``.
"""

from skanogan.models.lran.scoring import (
    DENSITY_SCORES,
    SCORE_TYPES,
    GaussianDensity,
    ScoreScaler,
    ScoreStatistics,
)

__all__ = ["DENSITY_SCORES", "SCORE_TYPES", "GaussianDensity", "ScoreScaler", "ScoreStatistics"]
