"""Grid search over skanogan's loss weights on a Dask cluster, one fit per task.

A grid over ``w_zrec`` and ``w_rank`` is many independent fits. scikit-learn's ``GridSearchCV``
hands them to joblib; joblib's Dask backend sends them to the workers of a ``dask.distributed``
cluster. On a GPU machine start one worker per GPU (``dask_cuda.LocalCUDACluster`` does that,
giving each worker its own ``CUDA_VISIBLE_DEVICES``) and use ``device="cuda"``: each worker then
sees one GPU. Here a ``LocalCluster`` of CPU worker processes stands in for it; pass
``--scheduler tcp://host:8786`` to use a running cluster instead.

Run::

    pip install "skanogan[dask]"
    python examples/dask_grid_search.py            # two local workers
    python examples/dask_grid_search.py --quick    # a smaller grid and fewer epochs (tests)
"""

from __future__ import annotations

import argparse

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV

from skanogan import LatentRegularizedGAN
from skanogan.datasets import load_digits
from skanogan.model_selection import OneClassKFold


def make_search(quick: bool) -> tuple[GridSearchCV, np.ndarray, np.ndarray]:
    """The search and its data: digit 0 normal, 60 other digits as anomalies."""
    data = load_digits()
    rng = np.random.default_rng(0)
    normal = np.flatnonzero(data.target == 0)
    others = rng.choice(np.flatnonzero(data.target != 0), 60, replace=False)
    index = np.concatenate([normal, others])
    X, y = data.images[index], (data.target[index] != 0).astype(int)
    detector = LatentRegularizedGAN(
        epochs=2 if quick else 30, latent_dim=8, base_channels=8, device="cpu", random_state=0
    )
    grid = {"w_zrec": [0.0, 1.0], "w_rank": [0.0, 0.05] if quick else [0.0, 0.05, 0.5]}
    search = GridSearchCV(detector, grid, scoring="roc_auc", cv=OneClassKFold(3), refit=False)
    return search, X, y


def search_on_dask(search: GridSearchCV, X: np.ndarray, y: np.ndarray, client) -> GridSearchCV:
    """Fit the search with every fit running on the client's cluster."""
    with joblib.parallel_backend("dask", wait_for_workers_timeout=60):
        return search.fit(X, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    parser.add_argument("--quick", action="store_true", help="small grid, 2 epochs")
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    search, X, y = make_search(args.quick)
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    with client:
        search_on_dask(search, X, y, client)
    print("best parameters:", search.best_params_)
    print(f"best mean AUROC over folds: {search.best_score_:.3f}")
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        print(f"  {params}: {score:.3f}")


if __name__ == "__main__":
    main()
