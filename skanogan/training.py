"""One epoch of the adversarial game: a generator step, then a discriminator step, per batch.

Pure PyTorch; it knows nothing of scikit-learn. Batches arrive already on the device and in the
network's range and size (see :mod:`skanogan._shapes`). Per-term losses are summed on the device
and read back once per epoch.

See Also
--------
skanogan.networks : the four networks trained here.
skanogan.losses : the terms of the generator's loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from skanogan.losses import (
    adv_loss,
    discriminator_loss,
    irec_loss,
    rank_loss,
    zrec_loss,
)
from skanogan.networks import GANetworks

__all__ = ["HISTORY_KEYS", "Optimizers", "TrainConfig", "make_optimizers", "train_epoch"]

HISTORY_KEYS = (
    "g_irec",
    "g_adv",
    "g_zrec",
    "g_rank",
    "g_total",
    "d_loss",
    "svd_skipped",
    "seconds",
)


@dataclass(frozen=True)
class TrainConfig:
    """Loss weights and options of the generator step (``SPEC.md``, paper eq. 1).

    A weight of 0 switches its term off: the term is not computed at all.
    ``amp_dtype`` is the autocast dtype on CUDA, or ``None`` for full precision.
    """

    w_irec: float
    w_adv: float
    w_zrec: float
    w_rank: float
    rank: int
    adversarial_loss: str
    amp_dtype: torch.dtype | None = None


@dataclass
class Optimizers:
    """Adam for the generator side (``G_e``, ``G_d``, ``G_e'``), Adam for D, one grad scaler."""

    generator: torch.optim.Optimizer
    discriminator: torch.optim.Optimizer
    scaler: torch.amp.GradScaler


def make_optimizers(
    nets: GANetworks, lr: float, device: torch.device, amp_dtype: torch.dtype | None
) -> Optimizers:
    """Adam with DCGAN's betas (0.5, 0.999); the scaler is active only for float16 autocast."""
    return Optimizers(
        generator=torch.optim.Adam(nets.generator_parameters(), lr=lr, betas=(0.5, 0.999)),
        discriminator=torch.optim.Adam(nets.discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
        scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16),
    )


def _train_step(
    nets: GANetworks, opt: Optimizers, x: torch.Tensor, cfg: TrainConfig
) -> tuple[dict[str, torch.Tensor], bool]:
    """One G step, then one D step, on batch ``x``.

    Returns the detached loss terms and whether the rank term's SVD was skipped.
    """
    zero = x.new_zeros(())
    terms = dict.fromkeys(("g_irec", "g_adv", "g_zrec", "g_rank"), zero)
    svd_skipped = False
    with torch.autocast(x.device.type, dtype=cfg.amp_dtype, enabled=cfg.amp_dtype is not None):
        z = nets.encoder(x)
        x_rec = nets.decoder(z)
        # D(x) serves both steps: its features as the feature-matching target of G (detached),
        # its logits in D's loss; D's weights do not change between the two steps.
        d_real, feat_real = nets.discriminator(x)
        total = zero
        if cfg.w_irec:
            terms["g_irec"] = irec_loss(x, x_rec)
            total = total + cfg.w_irec * terms["g_irec"]
        if cfg.w_adv:
            d_fake, feat_fake = nets.discriminator(x_rec)
            terms["g_adv"] = adv_loss(
                cfg.adversarial_loss,
                d_fake=d_fake,
                feat_real=feat_real.detach(),
                feat_fake=feat_fake,
            )
            total = total + cfg.w_adv * terms["g_adv"]
        if cfg.w_zrec:
            terms["g_zrec"] = zrec_loss(z, nets.aux_encoder(x_rec))
            total = total + cfg.w_zrec * terms["g_zrec"]
        if cfg.w_rank:
            rank_term = rank_loss(z, cfg.rank)
            svd_skipped = rank_term is None
            if not svd_skipped:
                terms["g_rank"] = rank_term
                total = total + cfg.w_rank * rank_term

    opt.generator.zero_grad(set_to_none=True)
    if total.requires_grad:
        opt.scaler.scale(total).backward()
        opt.scaler.step(opt.generator)

    with torch.autocast(x.device.type, dtype=cfg.amp_dtype, enabled=cfg.amp_dtype is not None):
        d_fake_detached, _ = nets.discriminator(x_rec.detach())
        d_loss = discriminator_loss(d_real, d_fake_detached)
    opt.discriminator.zero_grad(set_to_none=True)
    opt.scaler.scale(d_loss).backward()
    opt.scaler.step(opt.discriminator)
    opt.scaler.update()

    terms = {key: value.detach().float() for key, value in terms.items()}
    terms["g_total"] = total.detach().float()
    terms["d_loss"] = d_loss.detach().float()
    return terms, svd_skipped


def train_epoch(
    nets: GANetworks,
    opt: Optimizers,
    batches: Iterable[torch.Tensor],
    cfg: TrainConfig,
    on_batch: Callable[[], None] | None = None,
) -> dict[str, float]:
    """Train on every batch once and return the epoch's record for ``history_``.

    Returns
    -------
    dict
        ``g_irec``, ``g_adv``, ``g_zrec``, ``g_rank`` (unweighted means over the epoch's
        batches; 0.0 for a term switched off; ``g_rank`` over the steps whose SVD succeeded),
        ``g_total`` (the weighted sum), ``d_loss``, ``svd_skipped`` (count of steps whose
        SVD failed or was not finite) and ``seconds``.
    """
    start = time.perf_counter()
    for module in nets.modules().values():
        module.train()
    sums: dict[str, torch.Tensor] = {}
    n_batches = n_skipped = 0
    for x in batches:
        terms, skipped = _train_step(nets, opt, x, cfg)
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value
        n_batches += 1
        n_skipped += int(skipped)
        if on_batch is not None:
            on_batch()
    if n_batches == 0:
        raise ValueError("train_epoch received no batches")
    record = {key: float(value) / n_batches for key, value in sums.items()}
    n_ranked = n_batches - n_skipped
    record["g_rank"] = float(sums["g_rank"]) / n_ranked if n_ranked else 0.0
    record["svd_skipped"] = float(n_skipped)
    record["seconds"] = time.perf_counter() - start
    return {key: record[key] for key in HISTORY_KEYS}
