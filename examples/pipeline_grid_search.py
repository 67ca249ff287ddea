"""Choose skanogan's loss weights with GridSearchCV on a normal-only cross-validation.

The detector sits in a ``Pipeline`` after a scaler-free reshape step, and ``OneClassKFold``
makes every training fold hold normal samples only while the test folds hold held-out normals
plus anomalies. The search runs with ``refit=False`` (a refit would train on anomalies too); the
best weights are then fitted on the normal samples alone and scored on a separate test half.

Run::

    python examples/pipeline_grid_search.py           # 30 epochs, a 3 x 2 grid
    python examples/pipeline_grid_search.py --quick   # 2 epochs, a 2 x 1 grid (tests)
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skanogan import LatentRegularizedGAN
from skanogan.datasets import load_digits
from skanogan.model_selection import OneClassKFold


def to_images(rows: np.ndarray) -> np.ndarray:
    """Flat 64-feature rows → 8 x 8 images (a named function, so the pipeline pickles)."""
    return rows.reshape(-1, 8, 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs and a tiny grid")
    args = parser.parse_args()

    data = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.images))
    search_half, test_half = order[: len(order) // 2], order[len(order) // 2 :]
    X, y = data.images[search_half], (data.target[search_half] != 0).astype(int)

    # Flat 64-feature rows in, 8 x 8 images to the detector: the Pipeline owns the reshape.
    pipeline = make_pipeline(
        FunctionTransformer(to_images),
        LatentRegularizedGAN(epochs=2 if args.quick else 30, device="cpu", random_state=0),
    )
    step = "latentregularizedgan"
    grid = (
        {f"{step}__w_rank": [0.0, 0.05]}
        if args.quick
        else {f"{step}__w_rank": [0.0, 0.05, 0.5], f"{step}__w_adv": [1.0, 5.0]}
    )
    search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=OneClassKFold(3), refit=False)
    search.fit(X.reshape(len(X), -1), y)
    print("best parameters:", search.best_params_)
    print(f"mean AUROC over the folds: {search.best_score_:.3f}")

    final = clone(pipeline).set_params(**search.best_params_)
    final.fit(X[y == 0].reshape(-1, 64))
    X_test = data.images[test_half].reshape(len(test_half), -1)
    y_test = (data.target[test_half] != 0).astype(int)
    auroc = roc_auc_score(y_test, final.decision_function(X_test))
    print(f"AUROC on the held-out half (digit 0 normal): {auroc:.3f}")


if __name__ == "__main__":
    main()
