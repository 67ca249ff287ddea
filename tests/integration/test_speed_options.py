"""The speed options: torch.compile wrappers, cuDNN autotuning, fused Adam on CUDA.

What needs a GPU is checked here as far as a CPU allows (the flags and the optimizer's
configuration); the CUDA tests in ``test_estimator.py`` run the rest where a GPU exists.
"""

import pickle

import numpy as np
import pytest
import torch

from skanogan import LatentRegularizedGAN
from skanogan.core._device import cuda_autotune
from skanogan.models.lran.networks import build_networks
from skanogan.models.lran.train_step import make_optimizers


@pytest.mark.slow
def test_compile_trains_and_scores_through_the_wrappers(tiny, eager_compile):
    """compile=True routes training and scoring through torch.compile; results match."""
    X = np.random.default_rng(0).random((40, 12, 12))
    plain = tiny(epochs=2, batch_size=8).fit(X)
    compiled = tiny(epochs=2, batch_size=8, compile=True).fit(X)
    assert eager_compile == [
        compiled.encoder_,
        compiled.decoder_,
        compiled.aux_encoder_,
        compiled.discriminator_,
    ]
    assert isinstance(compiled.encoder_, torch.nn.Module)
    assert not isinstance(compiled.encoder_, torch._dynamo.eval_frame.OptimizedModule)
    np.testing.assert_allclose(compiled.decision_scores_, plain.decision_scores_, rtol=1e-4)
    np.testing.assert_allclose(compiled.encode(X[:5]), plain.encode(X[:5]), rtol=1e-4, atol=1e-6)


def test_compiled_wrappers_are_not_pickled_and_are_rebuilt(tiny, eager_compile, tmp_path):
    X = np.random.default_rng(1).random((24, 8, 8))
    detector = tiny(batch_size=8, compile=True).fit(X)
    assert "_compiled" not in detector.__getstate__()
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_allclose(restored.decision_function(X), detector.decision_function(X))
    assert len(eager_compile) == 8  # four for the fit, four again after unpickling
    detector.save(tmp_path / "model.safetensors")
    loaded = LatentRegularizedGAN.load(tmp_path / "model.safetensors")
    assert loaded.compile is True
    np.testing.assert_allclose(loaded.decision_function(X), detector.decision_function(X))


def test_cuda_autotune_sets_and_restores_the_cudnn_flag(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    with cuda_autotune(torch.device("cpu")):
        assert torch.backends.cudnn.benchmark is False
    with cuda_autotune(torch.device("cuda")):
        assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.benchmark is False


def test_cuda_autotune_respects_deterministic_cudnn(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    with cuda_autotune(torch.device("cuda")):
        assert torch.backends.cudnn.benchmark is False


@pytest.mark.parametrize(("device", "fused"), [("cpu", False), ("cuda", True)])
def test_adam_is_fused_on_cuda_only(device, fused):
    nets = build_networks(
        in_channels=1,
        image_size=16,
        n_features=256,
        latent_dim=4,
        base_channels=4,
        rng=torch.Generator().manual_seed(0),
    )
    optimizers = make_optimizers(nets, 2e-4, torch.device(device), None)
    assert bool(optimizers.g_optimizer.defaults["fused"]) is fused
    assert bool(optimizers.d_optimizer.defaults["fused"]) is fused
