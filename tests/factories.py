"""Tiny objects shared by test modules; imported as ``factories`` (tests/ is on sys.path)."""

import numpy as np
import torch

from skanogan.models.lran.networks import GANetworks, build_networks


def tiny_networks(seed: int = 0) -> GANetworks:
    """Four 16×16, one-channel networks, latent_dim 4 and base_channels 4, seeded."""
    return build_networks(
        in_channels=1,
        image_size=16,
        n_features=0,
        latent_dim=4,
        base_channels=4,
        rng=torch.Generator().manual_seed(seed),
    )


def smooth_images() -> np.ndarray:
    """40 smooth random 1×12×12 float32 images (a side < 16 exercises the resize path)."""
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 12)
    base = np.sin(6 * grid)[:, None] * np.cos(4 * grid)[None, :]
    return (base[None] + 0.3 * rng.standard_normal((40, 12, 12))).astype(np.float32)
