"""Scorers on ``decision_function`` (labels 1 = anomaly)."""

from __future__ import annotations

from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score

__all__ = ["auroc_scorer", "average_precision_scorer"]

# scikit-learn's "roc_auc" and "average_precision" try decision_function first on anything
# that is not a classifier, which is what these do; naming the method makes the sign explicit.
#: AUROC of ``decision_function`` against labels 1 = anomaly (same as ``scoring="roc_auc"``).
auroc_scorer = make_scorer(roc_auc_score, response_method="decision_function")
#: Average precision of ``decision_function``, anomalies positive (``"average_precision"``).
average_precision_scorer = make_scorer(average_precision_score, response_method="decision_function")
