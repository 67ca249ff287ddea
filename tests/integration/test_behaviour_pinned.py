"""Behaviour pinned before the package was restructured (issue 15): same history, same scores.

Two tiny fixed-seed fits (images through the resize path, and tabular rows) are compared with
``tests/data/behaviour_pinned.json``, written by this module before any code moved
(``python tests/integration/test_behaviour_pinned.py`` rewrites it). Every loss and model
parameter is passed explicitly, so that a change of the defaults does not change what is pinned.
``tests/data/pickle_before_move.pkl`` is the image detector pickled before the move: it must
still load and score as it did.
"""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import smooth_images

from skanogan import LatentRegularizedGAN
from skanogan.scoring import SCORE_TYPES

DATA = Path(__file__).resolve().parents[1] / "data"
REFERENCE = DATA / "behaviour_pinned.json"
PICKLE = DATA / "pickle_before_move.pkl"

#: Every parameter that shapes training or scoring, whatever the defaults become.
PARAMS = dict(
    latent_dim=4,
    base_channels=4,
    epochs=2,
    batch_size=16,
    w_irec=1.0,
    w_adv=5.0,
    w_zrec=1.0,
    w_rank=0.05,
    rank=0,
    rank_form="nuclear",
    adversarial_loss="feature_matching",
    score_type="latent",
    contamination=0.1,
    lr=2e-4,
    validation_fraction=0.0,
    amp=False,
    compile=False,
    on_divergence="raise",
    eval_batch_size=256,
    random_state=0,
    device="cpu",
)


def _tabular() -> np.ndarray:
    """40 rows of 5 correlated features."""
    rng = np.random.default_rng(1)
    return rng.standard_normal((40, 5)) @ rng.standard_normal((5, 5))


CASES = {"images": smooth_images, "tabular": _tabular}


def _outputs(detector: LatentRegularizedGAN, X: np.ndarray) -> dict:
    """Everything pinned of one fitted detector, as JSON-ready lists."""
    out = {
        "history": [
            {key: value for key, value in record.items() if key != "seconds"}
            for record in detector.history_
        ],
        "threshold": detector.threshold_,
        "anomaly_map": detector.anomaly_map(X[:6]).tolist(),
        "encode": detector.encode(X[:6]).tolist(),
    }
    for score_type in SCORE_TYPES:
        detector.set_params(score_type=score_type)
        out[f"decision_function/{score_type}"] = detector.decision_function(X).tolist()
        out[f"latent_saliency/{score_type}"] = detector.latent_saliency(X[:6]).tolist()
    detector.set_params(score_type=PARAMS["score_type"])
    return out


#: The torch thread count the reference was written with: the order of float sums depends on it.
PINNED_THREADS = 2


@pytest.fixture(autouse=True)
def pinned_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(PINNED_THREADS)
    yield
    torch.set_num_threads(threads)


def _fit(case: str) -> tuple[LatentRegularizedGAN, np.ndarray]:
    X = CASES[case]()
    return LatentRegularizedGAN(**PARAMS).fit(X), X


def _assert_matches(actual, expected, where: str) -> None:
    if isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for key in expected:
            _assert_matches(actual[key], expected[key], f"{where}/{key}")
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_matches(a, e, f"{where}[{i}]")
    elif "latent_saliency/" in where:
        # A gradient through the density's precision matrix amplifies the last bits of float
        # sums, whose order differs between CPU models (4e-6 seen on a second AMD EPYC).
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5, err_msg=where)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6, err_msg=where)


@pytest.mark.parametrize("case", CASES)
def test_fit_gives_the_pinned_history_and_scores(case):
    """History (every key but ``seconds``), every score type, maps and codes as pinned."""
    detector, X = _fit(case)
    expected = json.loads(REFERENCE.read_text())[case]
    _assert_matches(_outputs(detector, X), expected, case)


def test_pickle_from_before_the_move_loads_and_scores():
    """A detector pickled before the restructuring unpickles and gives the pinned scores."""
    with PICKLE.open("rb") as file:
        detector = pickle.load(file)  # our own committed file
    X = smooth_images()
    expected = json.loads(REFERENCE.read_text())["images"]
    for score_type in SCORE_TYPES:
        scores = detector.set_params(score_type=score_type).decision_function(X)
        np.testing.assert_allclose(
            scores, expected[f"decision_function/{score_type}"], rtol=1e-6, atol=1e-6
        )
    assert detector.set_params(warm_start=True, epochs=1).fit(X).n_iter_ == 3


if __name__ == "__main__":
    torch.set_num_threads(PINNED_THREADS)
    reference = {}
    for name in CASES:
        fitted, data = _fit(name)
        reference[name] = _outputs(fitted, data)
        if name == "images":
            PICKLE.write_bytes(pickle.dumps(fitted))
    REFERENCE.write_text(json.dumps(reference))
