"""One-class model selection: protocols, normal-only cross-validation folds and scorers.

A one-class detector is fitted on normal samples only and judged on normals and anomalies
together. scikit-learn's splitters cannot express that (their training folds would hold
anomalies too), so this module provides:

- :func:`one_class_split` turns a labelled multi-class dataset into a one-class task, under
  the standard protocol ``"one_vs_rest"`` (one class normal, all others anomalous; the one the
  paper's tables report) or GANomaly's inverse ``"rest_vs_one"`` (one class anomalous, all
  others normal). It returns a :class:`OneClassSplit`.
- :class:`OneClassKFold` makes K folds whose training parts hold normals only and whose test
  parts hold held-out normals plus a share of the anomalies.
- :class:`GroupOneClassKFold` does the same with groups (e.g. the slices of one patient) kept
  whole on one side of every fold.
- ``auroc_scorer`` and ``average_precision_scorer`` are scorers on ``decision_function``. The
  names ``"roc_auc"`` and ``"average_precision"`` give the same numbers in ``GridSearchCV``.

Labels are 1 = anomaly and 0 = normal throughout. ``decision_function`` is higher for more
anomalous samples (PyOD's sign), so AUROC and average precision need no sign flip.

See Also
--------
skanogan.estimator : ``LatentRegularizedGAN``, the detector these helpers select.
docs/user_guide.md : "Model selection (one class)": search with ``refit=False``, then fit
    the best parameters on the normal samples only.

Examples
--------
>>> from skanogan.model_selection import auroc_scorer, average_precision_scorer
>>> auroc_scorer
make_scorer(roc_auc_score, response_method='decision_function')
>>> average_precision_scorer
make_scorer(average_precision_score, response_method='decision_function')
"""

from skanogan.model_selection._kfold import GroupOneClassKFold, OneClassKFold
from skanogan.model_selection._scorers import auroc_scorer, average_precision_scorer
from skanogan.model_selection._split import PROTOCOLS, OneClassSplit, one_class_split

__all__ = [
    "PROTOCOLS",
    "GroupOneClassKFold",
    "OneClassKFold",
    "OneClassSplit",
    "auroc_scorer",
    "average_precision_scorer",
    "one_class_split",
]
