"""One epoch of the adversarial game: a generator step, then a discriminator step, per batch.

Pure PyTorch; it knows nothing of scikit-learn. Batches arrive already on the device and in the
network's range and size (see :mod:`skanogan.core._shapes`). Per-term losses are summed on
the device;
the host reads them every ``check_every`` steps (to catch a non-finite loss early without a sync
per step) and once at the end of the epoch.

See Also
--------
skanogan.models.lran.networks : the four networks trained here.
skanogan.models.lran.losses : the terms of the generator's loss.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from skanogan.exceptions import DivergenceError
from skanogan.models.components.init import init_dcgan_weights
from skanogan.models.lran.averaging import WeightAverage
from skanogan.models.lran.losses import (
    adv_loss,
    discriminator_loss,
    irec_loss,
    rank_loss,
    zrec_loss,
)
from skanogan.models.lran.networks import GANetworks

__all__ = [
    "COLLAPSE_D_LOSS",
    "HISTORY_KEYS",
    "Optimizers",
    "TrainConfig",
    "make_optimizers",
    "restart_discriminator",
    "train_epoch",
]

HISTORY_KEYS = (
    "g_irec",
    "g_adv",
    "g_zrec",
    "g_rank",
    "g_total",
    "d_loss",
    "svd_skipped",
    "d_collapsed",
    "d_restarts",
    "seconds",
)

#: D's loss below this on every step of an epoch counts as a collapse: D separates real from
#: reconstructed images perfectly and its gradients no longer teach G (GANomaly re-initialises D
#: at the same bound).
COLLAPSE_D_LOSS = 1e-5

_TERMS = ("g_irec", "g_adv", "g_zrec", "g_rank", "d_loss")


@dataclass(frozen=True)
class TrainConfig:
    """Loss weights and options of the generator step (``docs/paper.md``, eq. 1).

    A weight of 0 switches its term off: the term is not computed at all.
    ``amp_dtype`` is the autocast dtype (CUDA or CPU), or ``None`` for full precision.
    """

    w_irec: float
    w_adv: float
    w_zrec: float
    w_rank: float
    rank: int
    adversarial_loss: str
    rank_form: str = "nuclear"
    amp_dtype: torch.dtype | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any], amp_dtype: torch.dtype | None) -> TrainConfig:
        """The configuration from an estimator's parameters (``get_params()``)."""
        return cls(
            w_irec=float(params["w_irec"]),
            w_adv=float(params["w_adv"]),
            w_zrec=float(params["w_zrec"]),
            w_rank=float(params["w_rank"]),
            rank=int(params["rank"]),
            rank_form=params["rank_form"],
            adversarial_loss=params["adversarial_loss"],
            amp_dtype=amp_dtype,
        )


@dataclass
class Optimizers:
    """The training state beside the networks: Adam for the generator side (``G_e``, ``G_d``,
    ``G_e'``), Adam for D, one grad scaler and the generator's weight average.

    Like :class:`~skanogan.models.lran.networks.GANetworks`, it owns its state dicts: the field
    names are the keys, and nothing else lists them.
    """

    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    grad_scaler: torch.amp.GradScaler
    weight_average: WeightAverage

    def state_dict(self) -> dict[str, dict[str, Any]]:
        """Field → its ``state_dict`` (live references: copy them to keep a snapshot)."""
        return {f.name: getattr(self, f.name).state_dict() for f in dataclasses.fields(self)}

    def load_state_dict(self, states: dict[str, dict[str, Any]]) -> None:
        """Load each field's state from :meth:`state_dict`'s layout; a field missing from
        ``states`` (``weight_average`` in files written before it existed) keeps its fresh
        state."""
        for f in dataclasses.fields(self):
            if f.name in states:
                getattr(self, f.name).load_state_dict(states[f.name])


def make_optimizers(
    nets: GANetworks, lr: float, device: torch.device, amp_dtype: torch.dtype | None
) -> Optimizers:
    """Adam with DCGAN's betas (0.5, 0.999); the scaler is active only for float16 autocast;
    an empty weight average.

    On CUDA, Adam is the fused kernel (one launch per step instead of several per tensor).
    """
    fused = device.type == "cuda"
    return Optimizers(
        g_optimizer=torch.optim.Adam(
            nets.generator_parameters(), lr=lr, betas=(0.5, 0.999), fused=fused
        ),
        d_optimizer=torch.optim.Adam(
            nets.discriminator.parameters(), lr=lr, betas=(0.5, 0.999), fused=fused
        ),
        grad_scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16),
        weight_average=WeightAverage(),
    )


def restart_discriminator(nets: GANetworks, opt: Optimizers, rng: torch.Generator) -> None:
    """Re-initialise D in place (DCGAN weights, fresh BatchNorm statistics) and forget its Adam
    moments: GANomaly's remedy when D's loss runs away from G's."""
    nets.discriminator.apply(lambda layer: init_dcgan_weights(layer, rng))
    for layer in nets.discriminator.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.reset_running_stats()
    opt.d_optimizer.state.clear()


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """``module``'s parameters without ``requires_grad`` inside the block."""
    params = [p for p in module.parameters() if p.requires_grad]
    for param in params:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param in params:
            param.requires_grad_(True)


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
            # G's backward needs D's input gradient only: without D's weights in this graph it
            # skips their gradients, which D's own step would discard (it zeroes them first).
            with _frozen(nets.discriminator):
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
            rank_term = rank_loss(z, cfg.rank, cfg.rank_form)
            svd_skipped = rank_term is None
            if not svd_skipped:
                terms["g_rank"] = rank_term
                total = total + cfg.w_rank * rank_term

    opt.g_optimizer.zero_grad(set_to_none=True)
    if total.requires_grad:
        opt.grad_scaler.scale(total).backward()
        opt.grad_scaler.step(opt.g_optimizer)

    with torch.autocast(x.device.type, dtype=cfg.amp_dtype, enabled=cfg.amp_dtype is not None):
        d_fake_detached, _ = nets.discriminator(x_rec.detach())
        d_loss = discriminator_loss(d_real, d_fake_detached)
    opt.d_optimizer.zero_grad(set_to_none=True)
    opt.grad_scaler.scale(d_loss).backward()
    opt.grad_scaler.step(opt.d_optimizer)
    opt.grad_scaler.update()

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
    check_every: int = 32,
) -> dict[str, float]:
    """Train on every batch once and return the epoch's record for ``history_``.

    Raises
    ------
    DivergenceError
        When a loss term is not finite, found at the first check after it happened (every
        ``check_every`` steps and at the end); it names the term and the step where the first
        non-finite value appeared. The networks are left as they are: the caller rolls them
        back.

    Returns
    -------
    dict
        ``g_irec``, ``g_adv``, ``g_zrec``, ``g_rank`` (unweighted means over the epoch's
        batches; 0.0 for a term switched off; ``g_rank`` over the steps whose SVD succeeded),
        ``g_total`` (the weighted sum), ``d_loss``, ``svd_skipped`` (count of steps whose
        SVD failed or was not finite), ``d_collapsed`` (1.0 when D's loss stayed below
        :data:`COLLAPSE_D_LOSS` on every step), ``d_restarts`` (0.0 here; the estimator counts
        its restarts of D) and ``seconds``.
    """
    start = time.perf_counter()
    for module in nets.modules().values():
        module.train()
    sums: dict[str, torch.Tensor] = {}
    d_loss_max: torch.Tensor | None = None
    # Step at which each term of _TERMS first became non-finite (0 = not yet), kept on the
    # device so that the term where a NaN started is named, not one it spread to.
    first_bad: torch.Tensor | None = None
    n_batches = n_skipped = 0
    for x in batches:
        terms, skipped = _train_step(nets, opt, x, cfg)
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value
        n_batches += 1
        values = torch.stack([terms[key] for key in _TERMS])
        if first_bad is None:
            first_bad = torch.zeros(len(_TERMS), dtype=torch.int64, device=values.device)
            d_loss_max = terms["d_loss"]
        d_loss_max = d_loss_max.max(terms["d_loss"])
        first_bad = torch.where(~values.isfinite() & (first_bad == 0), n_batches, first_bad)
        n_skipped += int(skipped)
        if on_batch is not None:
            on_batch()
        if n_batches % check_every == 0:
            _check_finite(first_bad)
    if first_bad is None:
        raise ValueError("train_epoch received no batches")
    _check_finite(first_bad)
    record = {key: float(value) / n_batches for key, value in sums.items()}
    n_ranked = n_batches - n_skipped
    record["g_rank"] = float(sums["g_rank"]) / n_ranked if n_ranked else 0.0
    record["svd_skipped"] = float(n_skipped)
    record["d_collapsed"] = float(float(d_loss_max) < COLLAPSE_D_LOSS)
    record["d_restarts"] = 0.0
    record["seconds"] = time.perf_counter() - start
    return {key: record[key] for key in HISTORY_KEYS}


def _check_finite(first_bad: torch.Tensor) -> None:
    """One host read; raises for the term that became non-finite first."""
    steps = first_bad.tolist()
    bad = [(step, term) for step, term in zip(steps, _TERMS, strict=True) if step]
    if bad:
        step, term = min(bad)
        raise DivergenceError(f"{term} became non-finite at step {step}", term=term, step=step)
