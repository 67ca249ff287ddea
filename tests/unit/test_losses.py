"""Values, edge cases and gradients of the loss terms in :mod:`skanogan.models.lran.losses`."""

import math

import numpy as np
import pytest
import torch

import skanogan.models.lran.losses
from skanogan.models.lran.losses import (
    ADVERSARIAL_LOSSES,
    adv_loss,
    discriminator_loss,
    irec_loss,
    rank_loss,
    zrec_loss,
)


def _latent(batch, dim, seed=0, dtype=torch.float32):
    return torch.randn(batch, dim, generator=torch.Generator().manual_seed(seed)).to(dtype)


def _numpy_rank_loss(z: torch.Tensor, rank: int) -> float:
    singular_values = np.linalg.svd(z.detach().double().numpy(), compute_uv=False)
    return float(singular_values[rank:].sum() / math.sqrt(z.shape[0]))


def test_irec_loss_is_mean_absolute_error():
    """irec_loss is the mean of |x - x_rec| over every element."""
    x = torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    x_rec = torch.tensor([[[[0.0, 1.0], [0.5, -0.5]]]])
    # |diffs| = 1, 2, 0, 0.5 → mean 0.875
    assert irec_loss(x, x_rec).item() == pytest.approx(0.875)


def test_irec_loss_is_zero_for_perfect_reconstruction():
    """irec_loss is 0 when the reconstruction equals the input."""
    x = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    assert irec_loss(x, x.clone()).item() == 0.0


def test_zrec_loss_is_mean_squared_difference():
    """zrec_loss is the mean of (z - z_rec)**2 over batch and latent dims."""
    z = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    z_rec = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    # squared diffs = 1, 4, 0, 4 → mean 2.25
    assert zrec_loss(z, z_rec).item() == pytest.approx(2.25)


def test_adv_loss_feature_matching_zero_for_identical_features():
    """Feature matching is exactly 0 when real and fake features are the same."""
    features = torch.randn(4, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    loss = adv_loss(
        "feature_matching", d_fake=torch.zeros(4), feat_real=features, feat_fake=features.clone()
    )
    assert loss.item() == 0.0


def test_adv_loss_feature_matching_is_squared_distance_of_batch_means():
    """Feature matching compares batch means only: mean over features of (mean_r - mean_f)**2."""
    feat_real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # batch mean (2, 3)
    feat_fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # batch mean (1, 1)
    loss = adv_loss(
        "feature_matching", d_fake=torch.zeros(2), feat_real=feat_real, feat_fake=feat_fake
    )
    # differences (1, 2) → squared (1, 4) → mean 2.5
    assert loss.item() == pytest.approx(2.5)


def test_adv_loss_feature_matching_ignores_per_sample_spread():
    """Two batches with equal means but different samples give zero feature-matching loss."""
    feat_real = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    feat_fake = torch.tensor([[5.0, -3.0], [-5.0, 3.0]])
    loss = adv_loss(
        "feature_matching", d_fake=torch.zeros(2), feat_real=feat_real, feat_fake=feat_fake
    )
    assert loss.item() == pytest.approx(0.0)


def test_adv_loss_bce_is_softplus_of_negative_logit():
    """BCE against "real" equals mean(log(1 + exp(-logit)))."""
    d_fake = torch.tensor([-2.0, 0.0, 1.5, 4.0])
    expected = np.mean(np.log1p(np.exp(-d_fake.numpy().astype(np.float64))))
    features = torch.zeros(4, 2)
    loss = adv_loss("bce", d_fake=d_fake, feat_real=features, feat_fake=features)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_adv_loss_unknown_kind_raises_value_error():
    """An unknown adversarial loss name is a ValueError that lists the valid ones."""
    features = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="feature_matching"):
        adv_loss("wasserstein", d_fake=torch.zeros(2), feat_real=features, feat_fake=features)


def test_adversarial_losses_constant_lists_both_kinds():
    """ADVERSARIAL_LOSSES lists exactly the kinds adv_loss accepts."""
    features = torch.zeros(2, 2)
    for kind in ADVERSARIAL_LOSSES:
        adv_loss(kind, d_fake=torch.zeros(2), feat_real=features, feat_fake=features)
    assert set(ADVERSARIAL_LOSSES) == {"feature_matching", "bce"}


def test_rank_loss_rank_zero_is_scaled_nuclear_norm():
    """rank=0 gives the sum of all singular values divided by sqrt(B)."""
    z = _latent(8, 5)
    assert rank_loss(z, 0).item() == pytest.approx(_numpy_rank_loss(z, 0), rel=1e-5)


@pytest.mark.parametrize("rank", [1, 2, 4])
def test_rank_loss_drops_leading_singular_values(rank):
    """rank=r sums only the singular values after the r largest, divided by sqrt(B)."""
    z = _latent(8, 5, seed=rank)
    value = rank_loss(z, rank).item()
    assert value == pytest.approx(_numpy_rank_loss(z, rank), rel=1e-5)
    assert value < rank_loss(z, 0).item()


def test_rank_loss_is_zero_when_rank_covers_every_singular_value():
    """A rank at least min(B, latent_dim) leaves nothing to penalise."""
    z = _latent(6, 3)
    assert rank_loss(z, 3).item() == 0.0


def test_rank_loss_is_zero_for_matrix_of_target_rank():
    """A rank-1 matrix has no penalty with rank=1 (up to float error)."""
    u = _latent(8, 1, seed=1)
    v = _latent(1, 5, seed=2)
    assert rank_loss(u @ v, 1).item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("rank", [0, 2])
def test_rank_loss_is_batch_size_independent(rank):
    """Stacking Z on itself (2B rows) gives the same value thanks to the 1/sqrt(B) scaling."""
    z = _latent(8, 5)
    stacked = torch.cat([z, z])
    assert rank_loss(stacked, rank).item() == pytest.approx(rank_loss(z, rank).item(), rel=1e-5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_rank_loss_returns_none_for_non_finite_input(bad):
    """A NaN or infinite latent matrix yields None instead of a poisoned loss."""
    z = _latent(6, 4)
    z[2, 1] = bad
    assert rank_loss(z, 0) is None


@pytest.mark.parametrize("error", [torch.linalg.LinAlgError, RuntimeError])
def test_rank_loss_returns_none_when_svd_raises(monkeypatch, error):
    """A failing SVD (LinAlgError or RuntimeError) yields None instead of raising."""

    def failing_svdvals(*args, **kwargs):
        raise error("SVD did not converge")

    monkeypatch.setattr(skanogan.models.lran.losses.torch.linalg, "svdvals", failing_svdvals)
    assert rank_loss(_latent(6, 4), 0) is None


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_rank_loss_is_float32_for_half_precision_input(dtype):
    """Half-precision z still gives a float32 rank loss, close to the float32 value."""
    z = _latent(8, 4, dtype=dtype)
    result = rank_loss(z, 0)
    assert result.dtype == torch.float32
    assert result.item() == pytest.approx(_numpy_rank_loss(z.float(), 0), rel=1e-5)


def test_rank_loss_is_float32_under_cpu_autocast():
    """Inside a bfloat16 autocast region the rank loss is still computed in float32."""
    z = _latent(8, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        result = rank_loss(z, 0)
    assert result.dtype == torch.float32
    assert result.item() == pytest.approx(_numpy_rank_loss(z, 0), rel=1e-5)


def test_rank_loss_gradient_is_scaled_u_vt():
    """Backward works: the gradient of the nuclear norm / sqrt(B) is U @ Vh / sqrt(B)."""
    z = _latent(8, 4).requires_grad_()
    rank_loss(z, 0).backward()
    assert z.grad is not None
    assert torch.isfinite(z.grad).all()
    u, _, vh = torch.linalg.svd(z.detach(), full_matrices=False)
    torch.testing.assert_close(z.grad, u @ vh / math.sqrt(8), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["zeros", "duplicated_rows"])
def test_rank_loss_gradient_is_finite_for_degenerate_latents(kind):
    """A collapsed (all-zero) or rank-deficient Z still gives a finite gradient."""
    if kind == "zeros":
        z = torch.zeros(8, 4)
    else:
        z = _latent(4, 4).repeat(2, 1)
    z.requires_grad_()
    rank_loss(z, 1).backward()
    assert torch.isfinite(z.grad).all()


def test_rank_loss_gradient_flows_through_half_precision_input():
    """A float16 leaf gets a finite float16 gradient through the float32 SVD."""
    z = _latent(8, 4, dtype=torch.float16).requires_grad_()
    rank_loss(z, 1).backward()
    assert z.grad.dtype == torch.float16
    assert torch.isfinite(z.grad).all()
    assert z.grad.abs().sum() > 0


def test_discriminator_loss_on_hand_example():
    """D's loss is the mean of BCE(real logits, 1) and BCE(fake logits, 0)."""
    d_real = torch.tensor([0.0, 2.0])
    d_fake = torch.tensor([0.0, -1.0])
    real = (math.log(2) + math.log1p(math.exp(-2.0))) / 2
    fake = (math.log(2) + math.log1p(math.exp(-1.0))) / 2
    assert discriminator_loss(d_real, d_fake).item() == pytest.approx(0.5 * (real + fake))


def test_discriminator_loss_small_for_confident_correct_discriminator():
    """A discriminator confidently right on both sides has a near-zero loss."""
    loss = discriminator_loss(torch.full((4,), 20.0), torch.full((4,), -20.0))
    assert loss.item() < 1e-6


def test_rank_loss_scale_free_is_tail_over_frobenius_norm():
    """form="scale_free" divides the spectrum's tail by ||Z||_F."""
    z = _latent(16, 6, seed=3)
    singular_values = np.linalg.svd(z.double().numpy(), compute_uv=False)
    for rank in (0, 2):
        expected = singular_values[rank:].sum() / np.sqrt((singular_values**2).sum())
        assert rank_loss(z, rank, "scale_free").item() == pytest.approx(expected, rel=1e-5)


def test_rank_loss_scale_free_ignores_scale_and_falls_with_concentration():
    """Shrinking every code lowers the nuclear form only; a rank-one Z gives 1 at rank=0."""
    z = _latent(16, 6, seed=4)
    assert rank_loss(0.1 * z, 0, "scale_free").item() == pytest.approx(
        rank_loss(z, 0, "scale_free").item(), rel=1e-5
    )
    assert rank_loss(0.1 * z, 0).item() == pytest.approx(0.1 * rank_loss(z, 0).item(), rel=1e-5)
    u, v = torch.randn(16, 1), torch.randn(1, 6)
    assert rank_loss(u @ v, 0, "scale_free").item() == pytest.approx(1.0, rel=1e-4)
    assert rank_loss(u @ v, 0, "scale_free").item() < rank_loss(z, 0, "scale_free").item()


def test_rank_loss_scale_free_is_finite_for_an_all_zero_batch():
    """A zero Z (a collapsed encoder) gives 0, not NaN."""
    assert rank_loss(torch.zeros(8, 4), 0, "scale_free").item() == 0.0


def test_rank_loss_unknown_form_raises_value_error():
    with pytest.raises(ValueError, match="rank_form must be one of"):
        rank_loss(_latent(4, 3, seed=0), 0, "frobenius")
