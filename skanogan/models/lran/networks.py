"""The four networks of the Latent Regularized Adversarial Network and their container.

- ``encoder`` ``G_e`` (and, with its own weights, ``aux_encoder`` ``G_e'``): image → z.
- ``decoder`` ``G_d``: z → image, ending in ``tanh``.
- ``discriminator`` ``D``: image → (real/fake logit, penultimate features).

:func:`build_networks` makes them from the shared blocks: the DCGAN conv networks of
:mod:`skanogan.models.components.dcgan` for images, their MLP variants
(:mod:`skanogan.models.components.mlp`) for tabular rows, so the model has one training loop for
both. :class:`GANetworks` is the one place that names the four roles: it owns their state dicts,
their train/eval mode and the :func:`torch.compile` wrappers.

See Also
--------
skanogan.models.lran.losses : the loss terms that combine these networks' outputs.
skanogan.models.lran.train_step : one step and one epoch of the adversarial game.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from skanogan.models.components.dcgan import Decoder, Discriminator, Encoder
from skanogan.models.components.init import init_dcgan_weights
from skanogan.models.components.mlp import MLPDecoder, MLPDiscriminator, MLPEncoder

__all__ = ["FittedNetwork", "GANetworks", "build_networks"]


@dataclass
class GANetworks:
    """The four networks of one model, in the paper's roles.

    The field names are the roles; every list of networks (state dicts, model files, the
    estimator's ``encoder_`` ... attributes) is derived from them.

    Examples
    --------
    >>> nets = build_networks(
    ...     in_channels=1, image_size=16, n_features=256, latent_dim=4, base_channels=4,
    ...     rng=torch.Generator().manual_seed(0),
    ... )
    >>> GANetworks.names()
    ('encoder', 'decoder', 'aux_encoder', 'discriminator')
    >>> sorted(nets.state_dict()) == sorted(GANetworks.names())
    True
    """

    encoder: nn.Module
    decoder: nn.Module
    aux_encoder: nn.Module
    discriminator: nn.Module
    # The torch.compile wrappers, built on first use and never saved (they share the
    # modules' parameters; a loaded or unpickled model compiles again).
    _compiled: GANetworks | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The four roles, in the paper's order."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)

    def modules(self) -> dict[str, nn.Module]:
        """Role → network."""
        return {name: getattr(self, name) for name in self.names()}

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the generator's optimizer: ``G_e``, ``G_d`` and ``G_e'``."""
        return [
            *self.encoder.parameters(),
            *self.decoder.parameters(),
            *self.aux_encoder.parameters(),
        ]

    def state_dict(self) -> dict[str, dict[str, Any]]:
        """Role → the network's ``state_dict`` (tensors shared with the networks, not copied)."""
        return {name: module.state_dict() for name, module in self.modules().items()}

    def load_state_dict(self, states: dict[str, dict[str, Any]]) -> None:
        """Load every network's state from :meth:`state_dict`'s layout."""
        for name, module in self.modules().items():
            module.load_state_dict(states[name])

    def to(self, device: torch.device, dtype: torch.dtype) -> GANetworks:
        """Move every network in place; returns ``self``."""
        for module in self.modules().values():
            module.to(device, dtype)
        return self

    def train(self, mode: bool = True) -> None:
        """Put every network in training (``mode=True``) or eval mode."""
        for module in self.modules().values():
            module.train(mode)

    def compiled(self) -> GANetworks:
        """The same networks wrapped in :func:`torch.compile`, built once per container."""
        if self._compiled is None:
            self._compiled = GANetworks(*(torch.compile(m) for m in self.modules().values()))
        return self._compiled


class FittedNetwork:
    """A fitted attribute ``<role>_`` of an estimator: ``networks_.<role>``, read-only.

    Lets ``encoder_``, ``decoder_``, ... stay documented attributes while :class:`GANetworks`
    alone holds the modules.
    """

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.role = attribute.removesuffix("_")

    def __get__(self, detector: Any, owner: type | None = None) -> Any:
        if detector is None:
            return self
        networks = vars(detector).get("networks_")
        if networks is None:
            raise AttributeError(f"{type(detector).__name__} is not fitted: no {self.role}_")
        return getattr(networks, self.role)


def build_networks(
    *,
    in_channels: int | None,
    image_size: int | None,
    n_features: int,
    latent_dim: int,
    base_channels: int,
    rng: torch.Generator,
) -> GANetworks:
    """Build and initialise the four networks on the CPU.

    Convolutional networks when ``image_size`` is given, MLPs (over ``n_features``) when it is
    ``None``. Construction runs inside :func:`torch.random.fork_rng`, so PyTorch's default
    initialisers leave the global random state as they found it; every weight is then drawn
    from ``rng``.
    """
    with torch.random.fork_rng(devices=[]):
        if image_size is None:
            nets = GANetworks(
                encoder=MLPEncoder(n_features, latent_dim, base_channels),
                decoder=MLPDecoder(n_features, latent_dim, base_channels),
                aux_encoder=MLPEncoder(n_features, latent_dim, base_channels),
                discriminator=MLPDiscriminator(n_features, base_channels),
            )
        else:
            nets = GANetworks(
                encoder=Encoder(in_channels, image_size, latent_dim, base_channels),
                decoder=Decoder(in_channels, image_size, latent_dim, base_channels),
                aux_encoder=Encoder(in_channels, image_size, latent_dim, base_channels),
                discriminator=Discriminator(in_channels, image_size, base_channels),
            )
    for module in nets.modules().values():
        module.apply(lambda layer: init_dcgan_weights(layer, rng))
    return nets
