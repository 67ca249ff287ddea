"""Named parameter sets of :class:`~skanogan.LatentRegularizedGAN`.

:data:`PAPER_SETTINGS` holds the paper's printed loss weights and score, so that a comparison
with the paper takes one step: ``LatentRegularizedGAN(**PAPER_SETTINGS)``. The library's own
defaults differ where our validation sweep (``benchmarks/validation.py``, training data only)
found better ones; ``docs/paper.md`` says which and why.

Examples
--------
>>> from skanogan import PAPER_SETTINGS, LatentRegularizedGAN
>>> LatentRegularizedGAN(**PAPER_SETTINGS).w_adv
5.0
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["PAPER_SETTINGS"]

#: The paper's eq. 1 weights (w_i, w_a, w_z, w_o), its plain nuclear-norm low-rank term and its
#: latent score (§3.3); read-only, so that no caller changes it for the others.
PAPER_SETTINGS = MappingProxyType(
    {
        "adversarial_loss": "feature_matching",
        "w_irec": 1.0,
        "w_adv": 5.0,
        "w_zrec": 1.0,
        "w_rank": 0.05,
        "rank": 0,
        "rank_form": "nuclear",
        "score_type": "latent",
    }
)
