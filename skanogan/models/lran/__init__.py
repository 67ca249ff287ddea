"""The Latent Regularized Adversarial Network: the paper's model (``docs/paper.md``).

- :mod:`~skanogan.models.lran.networks`: the four networks and their container.
- :mod:`~skanogan.models.lran.losses`: one function per loss term.
- :mod:`~skanogan.models.lran.train_step`: one G+D step, one epoch, the optimizers.
- :mod:`~skanogan.models.lran.scoring`: the scores (latent, image, density, combined).
- :mod:`~skanogan.models.lran.scoring_methods`: the estimator's score and map methods.
- :mod:`~skanogan.models.lran.estimator`: :class:`LatentRegularizedGAN`.
- :mod:`~skanogan.models.lran.presets`: ``PAPER_SETTINGS``, the paper's printed settings.

Only :class:`LatentRegularizedGAN` and ``PAPER_SETTINGS`` are public, as ``skanogan.*``.
"""

from skanogan.models.lran.estimator import LatentRegularizedGAN

__all__ = ["LatentRegularizedGAN"]
