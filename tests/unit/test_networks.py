"""Shapes, initialisation and seeding of the networks (:mod:`skanogan.models`)."""

import pytest
import torch
from factories import tiny_networks
from torch import nn

from skanogan.models.components.dcgan import Decoder, Discriminator, Encoder
from skanogan.models.components.init import init_dcgan_weights
from skanogan.models.components.mlp import MLPDecoder, MLPDiscriminator, MLPEncoder
from skanogan.models.lran.networks import GANetworks, build_networks

SIZES_AND_CHANNELS = [(size, channels) for size in (16, 32, 64) for channels in (1, 3)]


def _images(batch, channels, size, seed=0):
    rng = torch.Generator().manual_seed(seed)
    return torch.rand(batch, channels, size, size, generator=rng) * 2 - 1


def _all_state(nets: GANetworks) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{key}": value
        for name, module in nets.modules().items()
        for key, value in module.state_dict().items()
    }


@pytest.mark.parametrize(("size", "channels"), SIZES_AND_CHANNELS)
def test_encoder_maps_image_to_latent_code(size, channels):
    """Encoder turns a (B, C, S, S) batch into a (B, latent_dim) code."""
    encoder = Encoder(in_channels=channels, image_size=size, latent_dim=5, base_channels=4)
    assert encoder(_images(3, channels, size)).shape == (3, 5)


@pytest.mark.parametrize(("size", "channels"), SIZES_AND_CHANNELS)
def test_decoder_maps_code_to_image_in_tanh_range(size, channels):
    """Decoder turns a (B, latent_dim) code into a (B, C, S, S) image within [-1, 1]."""
    decoder = Decoder(out_channels=channels, image_size=size, latent_dim=5, base_channels=4)
    z = 10 * torch.randn(3, 5, generator=torch.Generator().manual_seed(1))
    out = decoder(z)
    assert out.shape == (3, channels, size, size)
    assert out.min() >= -1.0
    assert out.max() <= 1.0


@pytest.mark.parametrize(("size", "channels"), SIZES_AND_CHANNELS)
def test_discriminator_returns_logit_and_4x4_features(size, channels):
    """Discriminator returns a (B,) logit and (B, F, 4, 4) penultimate features."""
    base = 4
    discriminator = Discriminator(in_channels=channels, image_size=size, base_channels=base)
    logit, features = discriminator(_images(3, channels, size))
    expected_width = base * 2 ** ((size.bit_length() - 1) - 3)
    assert logit.shape == (3,)
    assert features.shape == (3, expected_width, 4, 4)


@pytest.mark.parametrize("size", [8, 12, 15, 24, 48, 100])
@pytest.mark.parametrize("network", ["encoder", "decoder", "discriminator"])
def test_invalid_image_size_raises_value_error(network, size):
    """A side that is below 16 or not a power of two is rejected by every conv network."""
    factories = {
        "encoder": lambda: Encoder(1, size, 4, 4),
        "decoder": lambda: Decoder(1, size, 4, 4),
        "discriminator": lambda: Discriminator(1, size, 4),
    }
    with pytest.raises(ValueError, match="power of two"):
        factories[network]()


def test_mlp_encoder_shape():
    """MLPEncoder maps (B, n_features) to (B, latent_dim)."""
    encoder = MLPEncoder(n_features=7, latent_dim=3, base_channels=4)
    assert encoder(torch.zeros(5, 7)).shape == (5, 3)


def test_mlp_decoder_shape_and_range():
    """MLPDecoder maps (B, latent_dim) to (B, n_features) within [-1, 1]."""
    decoder = MLPDecoder(n_features=7, latent_dim=3, base_channels=4)
    out = decoder(100 * torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (5, 7)
    assert out.abs().max() <= 1.0


def test_mlp_discriminator_shapes():
    """MLPDiscriminator returns a (B,) logit and (B, 2 * base_channels) features."""
    logit, features = MLPDiscriminator(n_features=7, base_channels=4)(torch.randn(5, 7))
    assert logit.shape == (5,)
    assert features.shape == (5, 8)


@pytest.mark.parametrize(
    "layer_factory",
    [
        lambda: nn.Conv2d(1, 256, 3, bias=True),
        lambda: nn.ConvTranspose2d(256, 1, 3, bias=True),
        lambda: nn.Linear(4, 4096, bias=True),
    ],
    ids=["conv", "convtranspose", "linear"],
)
def test_init_dcgan_weights_sets_weights_to_std_002_and_zero_bias(layer_factory):
    """Conv/ConvTranspose/Linear weights get N(0, 0.02), biases become exactly zero."""
    layer = layer_factory()
    # PyTorch's default (Kaiming-uniform, fan_in 4 or 9) is far wider than 0.02 and has a bias.
    assert layer.weight.std().item() > 0.1
    assert layer.bias.abs().sum().item() > 0
    init_dcgan_weights(layer, torch.Generator().manual_seed(0))
    assert layer.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert abs(layer.weight.mean().item()) < 0.005
    assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("norm_factory", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_init_dcgan_weights_draws_batchnorm_scales_around_one(norm_factory):
    """BatchNorm scales get N(1, 0.02) (PyTorch's default is exactly 1) and biases zero."""
    norm = norm_factory(4096)
    assert torch.equal(norm.weight, torch.ones(4096))
    with torch.no_grad():
        norm.bias.fill_(0.5)
    init_dcgan_weights(norm, torch.Generator().manual_seed(0))
    assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.005)
    assert norm.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert torch.count_nonzero(norm.bias) == 0


def test_init_dcgan_weights_depends_on_generator_only():
    """Two layers initialised from equally seeded generators get identical weights."""
    first, second = nn.Conv2d(3, 8, 4), nn.Conv2d(3, 8, 4)
    init_dcgan_weights(first, torch.Generator().manual_seed(7))
    init_dcgan_weights(second, torch.Generator().manual_seed(7))
    assert torch.equal(first.weight, second.weight)


def test_build_networks_all_conv_weights_follow_dcgan_init():
    """Every conv weight built by build_networks has a DCGAN-like small spread."""
    nets = tiny_networks(0)
    for module in nets.modules().values():
        for layer in module.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                assert layer.weight.std().item() < 0.04


def test_build_networks_same_seed_gives_identical_state():
    """Two builds from generators seeded the same have identical state_dicts."""
    first, second = _all_state(tiny_networks(3)), _all_state(tiny_networks(3))
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_build_networks_different_seed_gives_different_weights():
    """Builds from differently seeded generators differ in their weights."""
    first, second = _all_state(tiny_networks(3)), _all_state(tiny_networks(4))
    differing = [key for key in first if not torch.equal(first[key], second[key])]
    assert any(key.endswith("weight") for key in differing)


def test_build_networks_same_seed_mlp_identical():
    """The MLP variant is also fully determined by the generator's seed."""

    def build(seed):
        return _all_state(
            build_networks(
                in_channels=None,
                image_size=None,
                n_features=6,
                latent_dim=3,
                base_channels=4,
                rng=torch.Generator().manual_seed(seed),
            )
        )

    first, second, other = build(1), build(1), build(2)
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not all(torch.equal(first[key], other[key]) for key in first)


def test_build_networks_mlp_when_image_size_is_none():
    """image_size=None builds the tabular MLP networks."""
    nets = build_networks(
        in_channels=None,
        image_size=None,
        n_features=6,
        latent_dim=3,
        base_channels=4,
        rng=torch.Generator().manual_seed(0),
    )
    assert isinstance(nets.encoder, MLPEncoder)
    assert isinstance(nets.aux_encoder, MLPEncoder)
    assert isinstance(nets.decoder, MLPDecoder)
    assert isinstance(nets.discriminator, MLPDiscriminator)
    assert nets.encoder is not nets.aux_encoder


def test_build_networks_leaves_global_rng_state_unchanged():
    """build_networks neither consumes nor reseeds the global torch RNG."""
    before = torch.get_rng_state()
    tiny_networks(0)
    after = torch.get_rng_state()
    assert torch.equal(before, after)


def test_generator_parameters_cover_encoder_decoder_and_aux_encoder_only():
    """generator_parameters holds G_e, G_d and G_e' parameters and none of D's."""
    nets = tiny_networks(0)
    ids = {id(p) for p in nets.generator_parameters()}
    for name in ("encoder", "decoder", "aux_encoder"):
        assert all(id(p) in ids for p in getattr(nets, name).parameters())
    assert not any(id(p) in ids for p in nets.discriminator.parameters())


def test_container_state_dict_round_trips_and_names_the_four_roles():
    """GANetworks.state_dict is keyed by role; load_state_dict restores every network."""
    source, target = tiny_networks(0), tiny_networks(1)
    assert tuple(source.state_dict()) == GANetworks.names()
    target.load_state_dict(source.state_dict())
    assert all(
        torch.equal(value, _all_state(target)[key]) for key, value in _all_state(source).items()
    )


def test_container_compiles_once_and_shares_parameters(eager_compile):
    """compiled() wraps each network once; the wrappers train the same parameters."""
    nets = tiny_networks(0)
    first, second = nets.compiled(), nets.compiled()
    assert first is second and len(eager_compile) == 4
    assert next(first.encoder.parameters()) is next(nets.encoder.parameters())


def test_fitted_network_attributes_read_the_container(tiny, images):
    """encoder_ ... are networks_'s modules; unfitted, they raise AttributeError."""
    detector = tiny()
    assert not hasattr(detector, "encoder_")
    detector.fit(images)
    for role in GANetworks.names():
        assert getattr(detector, f"{role}_") is getattr(detector.networks_, role)


def test_optimizers_state_dict_round_trips():
    """Optimizers.state_dict is keyed by its fields and loads back."""
    from skanogan.models.lran.train_step import make_optimizers

    nets = tiny_networks(0)
    opt = make_optimizers(nets, 2e-4, torch.device("cpu"), None)
    assert set(opt.state_dict()) == {"g_optimizer", "d_optimizer", "grad_scaler", "weight_average"}
    opt.load_state_dict(opt.state_dict())
    # A file written before the weight average existed lacks its key: the average keeps its state.
    opt.weight_average.n_updates = 5
    opt.load_state_dict({k: v for k, v in opt.state_dict().items() if k != "weight_average"})
    assert opt.weight_average.n_updates == 5 and opt.weight_average.live is None
