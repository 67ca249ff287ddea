"""Former home of :class:`~skanogan.LatentRegularizedGAN`, kept so that pickles made before
skanogan's restructuring (which name ``skanogan.estimator.LatentRegularizedGAN``) still load.

Import the class as ``from skanogan import LatentRegularizedGAN``.
"""

from skanogan.models.lran.estimator import LatentRegularizedGAN

__all__ = ["LatentRegularizedGAN"]
