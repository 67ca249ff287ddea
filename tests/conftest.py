"""Shared fixtures: tiny images and a tiny, fast estimator configuration."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import smooth_images

from skanogan import LatentRegularizedGAN

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One process per core under pytest-xdist: torch's own threads would only contend for them.
    torch.set_num_threads(1)

#: Float32 (amp=False): the suite's exact comparisons must not depend on whether the CPU running
#: it has bfloat16, which amp="auto" would use; tests/integration/test_cpu_amp.py tests that path.
TINY = dict(
    latent_dim=4, base_channels=4, epochs=1, batch_size=16, device="cpu", amp=False, random_state=0
)


@pytest.fixture
def tiny():
    """Factory of detectors small enough to fit in well under a second."""

    def make(**params) -> LatentRegularizedGAN:
        return LatentRegularizedGAN(**{**TINY, **params})

    return make


@pytest.fixture
def images() -> np.ndarray:
    """40 smooth random 1×12×12 float images (a side < 16 exercises the resize path)."""
    return smooth_images()


@pytest.fixture
def digits():
    """scikit-learn's 8×8 digits as (images (n, 8, 8) float64 in [0, 16], labels)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8), y


@pytest.fixture
def eager_compile(monkeypatch):
    """torch.compile with the eager backend (no C++ build): the list of the modules it wraps."""
    wrapped = []
    real_compile = torch.compile

    def compile_eager(module, **kwargs):
        wrapped.append(module)
        return real_compile(module, backend="eager")

    monkeypatch.setattr(torch, "compile", compile_eager)
    return wrapped


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data_home(monkeypatch) -> Path:
    """The project's real data (``../shared/data``), also as ``$SKANOGAN_DATA``.

    Outside CI a missing folder skips the test with the reason; in CI it fails, since CI always
    has the folder beside the clone.
    """
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared data at {SHARED_DATA}")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    monkeypatch.setenv("SKANOGAN_DATA", str(SHARED_DATA))
    return SHARED_DATA
