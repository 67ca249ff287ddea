"""Model files of every earlier format version still load, score as recorded and train on.

Version 1: skanogan 0.1.0, before the density scores; version 2: skanogan 0.2.0, before the
averaged generator weights (``ema_decay``).
"""

from pathlib import Path

import numpy as np
import pytest

from skanogan import LatentRegularizedGAN

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {version: DATA / f"model_format_v{version}.safetensors" for version in (1, 2)}


@pytest.mark.parametrize("version", sorted(FILES))
def test_old_file_loads_and_scores_as_when_saved(images, version):
    """The committed file gives the scores it recorded when it was written."""
    path = FILES[version]
    detector = LatentRegularizedGAN.load(path)
    recorded = LatentRegularizedGAN.read_metadata(path)["scores"]
    for score_type, expected in recorded.items():
        scores = detector.set_params(score_type=score_type).decision_function(images[:8])
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-7)
    assert detector.n_iter_ == 2


@pytest.mark.parametrize("version", sorted(FILES))
def test_old_file_keeps_training(images, version):
    """Its optimizer state loads too: warm_start continues from it."""
    detector = LatentRegularizedGAN.load(FILES[version]).set_params(warm_start=True, epochs=1)
    assert detector.fit(images).n_iter_ == 3
    assert np.isfinite(detector.decision_scores_).all()
