"""A grid search on a two-worker Dask LocalCluster finds what the serial search finds."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:w_zrec=0:UserWarning")
def test_local_cluster_search_matches_the_serial_one():
    """Same best parameters and the same fold scores, serial and on two Dask workers."""
    pytest.importorskip("distributed", reason="the dask extra (dask.distributed) is absent")
    from dask.distributed import Client, LocalCluster
    from dask_grid_search import make_search, search_on_dask

    serial, X, y = make_search(quick=True)
    serial.fit(X, y)
    distributed, _, _ = make_search(quick=True)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        search_on_dask(distributed, X, y, client)
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-5
    )


@pytest.mark.slow
def test_example_runs_in_quick_mode():
    """The example script runs end to end on a local cluster and prints the best parameters."""
    if importlib.util.find_spec("distributed") is None:
        pytest.skip("the dask extra (dask.distributed) is absent")
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dask_grid_search.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "best parameters: {" in run.stdout
