"""skanogan: GAN-based image anomaly detection with a scikit-learn and PyOD API.

The public entry point is :class:`LatentRegularizedGAN`, the Latent Regularized
Adversarial Network trained on normal images only.
"""

from skanogan.models.lran.estimator import LatentRegularizedGAN

__version__ = "0.1.0"

__all__ = ["LatentRegularizedGAN", "__version__"]
