"""The models (internal), one folder each, and the building blocks they share.

- :mod:`skanogan.models.lran`: the Latent Regularized Adversarial Network
  (:class:`~skanogan.LatentRegularizedGAN`): networks, loss terms, one training step, scores and
  the estimator.
- :mod:`skanogan.models.components`: DCGAN conv networks, their MLP variants, weight init.
"""
