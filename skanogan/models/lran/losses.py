"""Loss terms of the Latent Regularized Adversarial Network (paper eq. 1–5, ``docs/paper.md``).

One function per term, each the *unweighted* mean the paper names:

- :func:`irec_loss` ``L_irec``: mean ``|x - x_rec|``.
- :func:`adv_loss` ``L_adv``: the generator's adversarial term, feature matching or BCE.
- :func:`zrec_loss` ``L_zrec``: mean ``(z - z_rec)**2``.
- :func:`rank_loss` ``L_rank``: truncated nuclear norm of the batch latent matrix, as the paper
  has it or divided by the matrix's Frobenius norm (scale-free).

:func:`discriminator_loss` is D's BCE on real vs reconstructed images.

See Also
--------
skanogan.models.lran.train_step : weights and sums these terms inside one step.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = [
    "ADVERSARIAL_LOSSES",
    "RANK_FORMS",
    "LossTerms",
    "adv_loss",
    "discriminator_loss",
    "irec_loss",
    "rank_loss",
    "zrec_loss",
]

ADVERSARIAL_LOSSES = ("feature_matching", "bce")
RANK_FORMS = ("nuclear", "scale_free")


class LossTerms(NamedTuple):
    """The generator's loss terms of one step, unweighted, as detached 0-d tensors."""

    irec: torch.Tensor
    adv: torch.Tensor
    zrec: torch.Tensor
    rank: torch.Tensor
    total: torch.Tensor


def irec_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """``L_irec``: mean absolute error over pixels and batch (paper eq. 2)."""
    return (x - x_rec).abs().mean()


def adv_loss(
    kind: str,
    *,
    d_fake: torch.Tensor,
    feat_real: torch.Tensor,
    feat_fake: torch.Tensor,
) -> torch.Tensor:
    """``L_adv``: the generator's adversarial term.

    Parameters
    ----------
    kind : {"feature_matching", "bce"}
        ``"feature_matching"``: mean squared difference between the batch means of D's
        penultimate features of real and reconstructed images (GANomaly's stable form).
        ``"bce"``: the paper's eq. 3 in its non-saturating form, BCE of D's logits on ``x_rec``
        against "real".
    d_fake : Tensor of shape (B,)
        D's logits on the reconstructions.
    feat_real, feat_fake : Tensor of shape (B, ...)
        D's features on real images (no gradient needed) and on reconstructions.
    """
    if kind == "feature_matching":
        return (feat_real.mean(0) - feat_fake.mean(0)).pow(2).mean()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    raise ValueError(f"adversarial_loss must be one of {ADVERSARIAL_LOSSES}, got {kind!r}")


def zrec_loss(z: torch.Tensor, z_rec: torch.Tensor) -> torch.Tensor:
    """``L_zrec``: mean over batch and latent dims of ``(z - z_rec)**2`` (paper eq. 4, MSE form)."""
    return (z - z_rec).pow(2).mean()


def rank_loss(z: torch.Tensor, rank: int, form: str = "nuclear") -> torch.Tensor | None:
    """``L_rank`` of the ``(B, latent_dim)`` batch matrix ``Z``: its spectrum beyond ``rank``.

    The sum of singular values beyond the first ``rank`` (``rank=0``: the nuclear norm) is a
    convex surrogate of the paper's constraint ``rank(Z) = r`` (eq. 5).

    - ``form="nuclear"`` (the paper's): ``svdvals(Z)[rank:].sum() / sqrt(B)``. Dividing by
      ``sqrt(B)`` keeps the scale independent of the batch size (the singular values of B
      i.i.d. rows grow as ``sqrt(B)``). It also falls when every code merely shrinks, which
      the networks can do at no cost to the other terms.
    - ``form="scale_free"``: ``svdvals(Z)[rank:].sum() / ||Z||_F``, unchanged when ``Z`` is
      scaled, so only a spectrum concentrated in fewer directions lowers it. It lies between 0
      and ``sqrt(min(B, latent_dim))`` (1 for a rank-one ``Z`` with ``rank=0``).

    Computed in float32 even under autocast. Returns ``None`` when the SVD fails or is not
    finite, so the caller can skip the term for this step instead of crashing or poisoning the
    weights.
    """
    if form not in RANK_FORMS:
        raise ValueError(f"rank_form must be one of {RANK_FORMS}, got {form!r}")
    with torch.autocast(device_type=z.device.type, enabled=False):
        try:
            singular_values = torch.linalg.svdvals(z.float())
        except (torch.linalg.LinAlgError, RuntimeError):
            return None
    if not bool(torch.isfinite(singular_values).all()):
        return None
    tail = singular_values[rank:].sum()
    if form == "nuclear":
        return tail / math.sqrt(z.shape[0])
    # ||Z||_F is the norm of the singular values; the floor keeps an all-zero batch finite.
    return tail / singular_values.norm().clamp_min(torch.finfo(torch.float32).tiny)


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """D's loss: mean of BCE(real logits, 1) and BCE(reconstruction logits, 0)."""
    real = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
    fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return 0.5 * (real + fake)
