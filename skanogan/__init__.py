"""skanogan: GAN-based image anomaly detection with a scikit-learn and PyOD API.

The public entry point is :class:`LatentRegularizedGAN`, the Latent Regularized
Adversarial Network trained on normal images only; ``LatentRegularizedGAN(**PAPER_SETTINGS)``
has the paper's printed loss weights and score.
"""

from skanogan.models.lran.estimator import LatentRegularizedGAN
from skanogan.models.lran.presets import PAPER_SETTINGS

__version__ = "0.5.0"

__all__ = ["PAPER_SETTINGS", "LatentRegularizedGAN", "__version__"]
