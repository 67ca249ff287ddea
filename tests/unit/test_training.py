"""One epoch of the adversarial game in :mod:`skanogan.models.lran.train_step`, on tiny networks."""

import math
from dataclasses import replace

import pytest
import torch
from factories import tiny_networks

import skanogan.models.lran.train_step
from skanogan.models.lran.train_step import HISTORY_KEYS, TrainConfig, make_optimizers, train_epoch

CPU = torch.device("cpu")
DEFAULT_CFG = TrainConfig(
    w_irec=1.0,
    w_adv=5.0,
    w_zrec=1.0,
    w_rank=0.05,
    rank=0,
    adversarial_loss="feature_matching",
)
N_BATCHES = 3

# The four generator terms: (config weight, history key, name patched in the train_step module).
TERMS = [
    ("w_irec", "g_irec", "irec_loss"),
    ("w_adv", "g_adv", "adv_loss"),
    ("w_zrec", "g_zrec", "zrec_loss"),
    ("w_rank", "g_rank", "rank_loss"),
]


def _batches(n=N_BATCHES, seed=0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(8, 1, 16, 16, generator=generator) * 2 - 1 for _ in range(n)]


def _setup(seed=0):
    nets = tiny_networks(seed)
    return nets, make_optimizers(nets, 2e-4, CPU, None)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in module.state_dict().items()}


def _changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    after = module.state_dict()
    return any(not torch.equal(before[key], after[key]) for key in before if key.endswith("weight"))


def _count_calls(monkeypatch, name, replacement=None):
    """Patch ``skanogan.models.lran.train_step.<name>`` with a wrapper that counts its calls."""
    original = getattr(skanogan.models.lran.train_step, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if replacement is not None:
            return replacement(*args, **kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(skanogan.models.lran.train_step, name, wrapper)
    return calls


def test_train_epoch_returns_history_keys_with_float_values():
    """The record has exactly HISTORY_KEYS, in order, each a finite float."""
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    assert tuple(record) == HISTORY_KEYS
    for key, value in record.items():
        assert type(value) is float, key
        assert math.isfinite(value), key


def test_train_epoch_reports_no_svd_skips_and_positive_time():
    """A healthy epoch reports svd_skipped == 0 and a positive duration."""
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    assert record["svd_skipped"] == 0.0
    assert record["seconds"] > 0.0


def test_train_epoch_reports_every_active_term_positive():
    """With all weights on, every loss term and D's loss is reported as positive."""
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    for key in ("g_irec", "g_adv", "g_zrec", "g_rank", "g_total", "d_loss"):
        assert record[key] > 0.0, key


def test_train_epoch_total_is_weighted_sum_of_terms():
    """g_total equals the weighted sum of the (epoch-averaged) generator terms."""
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    expected = sum(getattr(DEFAULT_CFG, weight) * record[key] for weight, key, _ in TERMS)
    assert record["g_total"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("weight", "key", "function"), TERMS)
def test_term_with_weight_zero_is_not_computed_and_reported_zero(
    monkeypatch, weight, key, function
):
    """A term whose weight is 0 is never called and is reported as exactly 0.0."""
    calls = _count_calls(monkeypatch, function)
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), replace(DEFAULT_CFG, **{weight: 0.0}))
    assert calls == []
    assert record[key] == 0.0


@pytest.mark.parametrize(("weight", "key", "function"), TERMS)
def test_term_with_positive_weight_is_computed_once_per_batch(monkeypatch, weight, key, function):
    """A term whose weight is positive is computed exactly once per batch."""
    calls = _count_calls(monkeypatch, function)
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    assert len(calls) == N_BATCHES
    assert record[key] > 0.0


def test_zero_zrec_weight_skips_aux_encoder():
    """With w_zrec = 0 the auxiliary encoder G_e' is not run at all."""
    nets, opt = _setup()
    calls = []
    nets.aux_encoder.register_forward_hook(lambda *args: calls.append(1))
    train_epoch(nets, opt, _batches(), replace(DEFAULT_CFG, w_zrec=0.0))
    assert calls == []


def test_svd_failure_is_counted_and_other_terms_still_train(monkeypatch):
    """When rank_loss returns None every batch, svd_skipped counts them and G still learns."""
    calls = _count_calls(monkeypatch, "rank_loss", replacement=lambda z, rank, form: None)
    nets, opt = _setup()
    before = {name: _snapshot(module) for name, module in nets.modules().items()}
    record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    assert len(calls) == N_BATCHES
    assert record["svd_skipped"] == float(N_BATCHES)
    assert record["g_rank"] == 0.0
    assert math.isfinite(record["g_total"])
    for name, module in nets.modules().items():
        assert _changed(before[name], module), name


def test_partial_svd_failure_averages_rank_over_successful_steps(monkeypatch):
    """g_rank is the mean over the steps whose SVD succeeded, not over all steps."""
    original = skanogan.models.lran.train_step.rank_loss
    values = []

    def every_other(z, rank, form):
        if len(values) % 2:
            values.append(None)
            return None
        result = original(z, rank, form)
        values.append(result.item())
        return result

    monkeypatch.setattr(skanogan.models.lran.train_step, "rank_loss", every_other)
    nets, opt = _setup()
    record = train_epoch(nets, opt, _batches(4), DEFAULT_CFG)
    successes = [v for v in values if v is not None]
    assert record["svd_skipped"] == 2.0
    assert record["g_rank"] == pytest.approx(sum(successes) / len(successes), rel=1e-5)


def test_only_rank_weight_with_skipped_svd_does_not_crash(monkeypatch):
    """If the rank term is the only one on and its SVD is skipped, G does not step, D does."""
    monkeypatch.setattr(skanogan.models.lran.train_step, "rank_loss", lambda z, rank, form: None)
    nets, opt = _setup()
    generator_before = {
        name: _snapshot(getattr(nets, name)) for name in ("encoder", "decoder", "aux_encoder")
    }
    d_before = _snapshot(nets.discriminator)
    cfg = replace(DEFAULT_CFG, w_irec=0.0, w_adv=0.0, w_zrec=0.0, w_rank=1.0)
    record = train_epoch(nets, opt, _batches(), cfg)
    assert record["svd_skipped"] == float(N_BATCHES)
    assert record["g_total"] == 0.0
    for name, before in generator_before.items():
        after = getattr(nets, name).state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before if k.endswith("weight")), name
    assert _changed(d_before, nets.discriminator)


def test_only_rank_weight_trains_encoder_alone():
    """With only the rank term on, the encoder learns and the decoder's weights stay put."""
    nets, opt = _setup()
    encoder_before, decoder_before = _snapshot(nets.encoder), _snapshot(nets.decoder)
    cfg = replace(DEFAULT_CFG, w_irec=0.0, w_adv=0.0, w_zrec=0.0, w_rank=1.0)
    record = train_epoch(nets, opt, _batches(), cfg)
    assert record["g_rank"] > 0.0
    assert _changed(encoder_before, nets.encoder)
    assert not _changed(decoder_before, nets.decoder)


def test_generator_steps_before_discriminator_in_each_batch():
    """Per batch, the generator's optimizer steps first, then the discriminator's."""
    nets, opt = _setup()
    order = []
    opt.g_optimizer.register_step_post_hook(lambda *args: order.append("G"))
    opt.d_optimizer.register_step_post_hook(lambda *args: order.append("D"))
    train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    assert order == ["G", "D"] * N_BATCHES


def test_epoch_changes_discriminator_and_generator_weights():
    """One epoch updates the weights of D and of every generator-side network."""
    nets, opt = _setup()
    before = {name: _snapshot(module) for name, module in nets.modules().items()}
    train_epoch(nets, opt, _batches(), DEFAULT_CFG)
    for name, module in nets.modules().items():
        assert _changed(before[name], module), name


def test_train_epoch_puts_networks_in_train_mode():
    """train_epoch switches every network to training mode first."""
    nets, opt = _setup()
    for module in nets.modules().values():
        module.eval()
    train_epoch(nets, opt, _batches(1), DEFAULT_CFG)
    assert all(module.training for module in nets.modules().values())


def test_bce_adversarial_loss_trains():
    """adversarial_loss="bce" runs, reports a positive adversarial term and updates weights."""
    nets, opt = _setup()
    before = {name: _snapshot(module) for name, module in nets.modules().items()}
    record = train_epoch(nets, opt, _batches(), replace(DEFAULT_CFG, adversarial_loss="bce"))
    assert math.isfinite(record["g_total"])
    assert record["g_adv"] > 0.0
    for name, module in nets.modules().items():
        assert _changed(before[name], module), name


def test_on_batch_callback_runs_once_per_batch():
    """The on_batch callback is called once after every batch."""
    nets, opt = _setup()
    calls = []
    train_epoch(nets, opt, _batches(), DEFAULT_CFG, on_batch=lambda: calls.append(1))
    assert len(calls) == N_BATCHES


def test_train_epoch_is_deterministic_for_a_fixed_seed():
    """Two runs from the same seed and batches produce identical records and weights."""
    records, states = [], []
    for _ in range(2):
        nets, opt = _setup(seed=5)
        record = train_epoch(nets, opt, _batches(), DEFAULT_CFG)
        records.append({k: v for k, v in record.items() if k != "seconds"})
        states.append(_snapshot(nets.decoder))
    assert records[0] == records[1]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_reconstruction_loss_decreases_over_epochs():
    """Over 30 epochs on a fixed batch set, the reconstruction loss goes down."""
    nets = tiny_networks(seed=1)
    # 10× the default learning rate: at 2e-4 the drop over 30 tiny epochs is only ~10 %.
    opt = make_optimizers(nets, 2e-3, CPU, None)
    generator = torch.Generator().manual_seed(0)
    # Smooth, structured images: easier to reconstruct than noise.
    grid = torch.linspace(-1, 1, 16)
    base = torch.sin(3 * grid)[:, None] * torch.cos(2 * grid)[None, :]
    batches = [
        (base + 0.1 * torch.randn(8, 1, 16, 16, generator=generator)).clamp(-1, 1) for _ in range(2)
    ]
    history = [train_epoch(nets, opt, batches, DEFAULT_CFG) for _ in range(30)]
    first, last = history[0]["g_irec"], history[-1]["g_irec"]
    assert last < 0.85 * first


def test_train_epoch_with_no_batches_raises_value_error():
    """An empty iterable of batches is a ValueError, not a division by zero."""
    nets, opt = _setup()
    with pytest.raises(ValueError, match="no batches"):
        train_epoch(nets, opt, [], DEFAULT_CFG)


def test_train_epoch_accepts_a_generator_of_batches():
    """Batches may come from a one-shot iterator, e.g. a generator expression."""
    nets, opt = _setup()
    record = train_epoch(nets, opt, (b for b in _batches()), DEFAULT_CFG)
    assert math.isfinite(record["g_total"])


def test_make_optimizers_uses_dcgan_adam_and_disabled_scaler_on_cpu():
    """Both optimizers are Adam(lr, betas=(0.5, 0.999)); the scaler is off without float16."""
    nets = tiny_networks()
    opt = make_optimizers(nets, 1e-3, CPU, None)
    for optimizer in (opt.g_optimizer, opt.d_optimizer):
        assert isinstance(optimizer, torch.optim.Adam)
        assert optimizer.param_groups[0]["lr"] == 1e-3
        assert optimizer.param_groups[0]["betas"] == (0.5, 0.999)
    assert not opt.grad_scaler.is_enabled()
    n_generator = sum(len(group["params"]) for group in opt.g_optimizer.param_groups)
    assert n_generator == len(nets.generator_parameters())
    n_discriminator = sum(len(group["params"]) for group in opt.d_optimizer.param_groups)
    assert n_discriminator == len(list(nets.discriminator.parameters()))
