"""Tiny objects shared by test modules; imported as ``factories`` (tests/ is on sys.path)."""

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
