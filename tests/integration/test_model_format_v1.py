"""Model files of format version 1 (skanogan 0.1.0, before the density scores) still load."""

from pathlib import Path

import numpy as np

from skanogan import LatentRegularizedGAN

V1_FILE = Path(__file__).resolve().parents[1] / "data" / "model_format_v1.safetensors"


def test_version_1_file_loads_and_scores_as_when_saved(images):
    """The committed version-1 file gives the scores it recorded when it was written."""
    detector = LatentRegularizedGAN.load(V1_FILE)
    recorded = LatentRegularizedGAN.read_metadata(V1_FILE)["scores"]
    for score_type, expected in recorded.items():
        scores = detector.set_params(score_type=score_type).decision_function(images[:8])
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-7)
    assert detector.n_iter_ == 2


def test_version_1_file_keeps_training(images):
    """Its optimizer state loads too: warm_start continues from it."""
    detector = LatentRegularizedGAN.load(V1_FILE).set_params(warm_start=True, epochs=1)
    assert detector.fit(images).n_iter_ == 3
    assert np.isfinite(detector.decision_scores_).all()
