"""The density scores: Gaussians fitted on the training codes, served for every score type."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.covariance import LedoitWolf

from skanogan import LatentRegularizedGAN
from skanogan.scoring import DENSITY_SCORES, SCORE_TYPES, GaussianDensity

V1_FILE = Path(__file__).resolve().parents[1] / "data" / "model_format_v1.safetensors"


def _codes(detector, X):
    """z and z - z_rec of X, computed here from the fitted networks, in float64."""
    x = detector.pixel_scaler_.transform(torch.as_tensor(np.asarray(X, np.float32)[:, None]))
    with torch.inference_mode():
        z = detector.encoder_(detector.geometry_.to_network(x))
        z_rec = detector.aux_encoder_(detector.decoder_(z))
    return {"latent_density": z.double().numpy(), "residual_density": (z - z_rec).double().numpy()}


def test_gaussian_density_is_scikit_learns_ledoit_wolf_mahalanobis():
    """The score is the squared Mahalanobis distance that LedoitWolf.mahalanobis computes."""
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((50, 8)) @ rng.standard_normal((8, 8))
    density = GaussianDensity.fit(codes)
    reference = LedoitWolf().fit(codes)
    new = rng.standard_normal((7, 8))
    scores = density.score(torch.as_tensor(new)).numpy()
    np.testing.assert_allclose(scores, reference.mahalanobis(new), rtol=1e-10)
    assert density.score(torch.as_tensor(density.mean[None])).item() == pytest.approx(0.0)


def test_gaussian_density_is_plain_arrays_and_well_conditioned_with_few_codes():
    """Fewer codes than dimensions still give a finite, positive-definite precision."""
    codes = np.random.default_rng(1).standard_normal((5, 20))
    density = GaussianDensity.fit(codes)
    assert isinstance(density.mean, np.ndarray) and isinstance(density.precision, np.ndarray)
    assert density.precision.shape == (20, 20)
    assert np.linalg.eigvalsh(density.precision).min() > 0


def test_equal_codes_warn_and_fall_back_to_the_distance_from_their_mean():
    """A collapsed fit (every training code equal) has no covariance: the pseudo-inverse would
    be zero and score every sample 0; the density warns and scores the squared distance."""
    codes = np.tile([1.0, 2.0, 3.0], (6, 1))
    with pytest.warns(UserWarning, match="training codes are all equal"):
        density = GaussianDensity.fit(codes)
    new = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 1.0]])
    np.testing.assert_allclose(density.score(torch.as_tensor(new)).numpy(), [0.0, 5.0])


@pytest.mark.parametrize("name", list(DENSITY_SCORES))
def test_densities_are_fitted_on_the_training_rows_only(tiny, images, name):
    """With validation_fraction, the held-out rows' codes do not enter the density."""
    detector = tiny(epochs=2, validation_fraction=0.25).fit(images)
    held_out = np.isin(detector.decision_scores_, detector.validation_scores_)
    assert held_out.sum() == 10
    expected = LedoitWolf().fit(_codes(detector, images[~held_out])[name])
    density = getattr(detector, f"{name}_")
    np.testing.assert_allclose(density.mean, expected.location_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(density.precision, expected.precision_, rtol=1e-3, atol=1e-3)


def test_warm_start_refits_the_densities_to_the_trained_networks(tiny, images):
    """After more epochs the densities describe the networks as they are now."""
    detector = tiny(warm_start=True).fit(images)
    first = detector.latent_density_.mean.copy()
    detector.fit(images)
    np.testing.assert_allclose(
        detector.latent_density_.mean, _codes(detector, images)["latent_density"].mean(0), atol=1e-5
    )
    assert not np.allclose(first, detector.latent_density_.mean)


@pytest.mark.parametrize("score_type", list(DENSITY_SCORES))
def test_density_scores_match_their_definition(tiny, images, score_type):
    """decision_function is the Mahalanobis distance of the sample's own code."""
    detector = tiny(epochs=2, score_type=score_type).fit(images)
    density = getattr(detector, f"{score_type}_")
    codes = _codes(detector, images)[score_type]
    centred = codes - density.mean
    expected = np.einsum("ij,jk,ik->i", centred, density.precision, centred)
    np.testing.assert_allclose(detector.decision_function(images), expected, rtol=1e-5)
    np.testing.assert_allclose(detector.decision_scores_, expected, rtol=1e-5)


def test_one_fit_serves_every_score_type(tiny, images):
    """set_params(score_type=...) after one fit switches scores without refitting."""
    detector = tiny(epochs=2).fit(images)
    scores = {s: detector.set_params(score_type=s).decision_function(images) for s in SCORE_TYPES}
    for score_type, values in scores.items():
        refit = tiny(epochs=2, score_type=score_type).fit(images)
        np.testing.assert_allclose(refit.decision_function(images), values, rtol=1e-6)
        np.testing.assert_allclose(refit.decision_scores_, values, rtol=1e-6)
    assert len({tuple(np.round(v, 6)) for v in scores.values()}) == len(SCORE_TYPES)


@pytest.mark.parametrize("score_type", list(DENSITY_SCORES))
def test_density_scores_survive_save_load_and_pickle(tiny, images, score_type, tmp_path):
    """The densities go into the model file (format 2) and into pickles."""
    detector = tiny(epochs=2, score_type=score_type).fit(images)
    expected = detector.decision_function(images)
    loaded = LatentRegularizedGAN.load(detector.save(tmp_path / "model.safetensors"))
    np.testing.assert_array_equal(loaded.decision_function(images), expected)
    np.testing.assert_array_equal(
        loaded.latent_saliency(images[:2]), detector.latent_saliency(images[:2])
    )
    unpickled = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(unpickled.decision_function(images), expected)


@pytest.mark.parametrize("score_type", list(DENSITY_SCORES))
def test_a_version_1_model_refuses_density_scores_clearly(images, score_type):
    """A file written before the densities existed says to refit, naming the score type."""
    detector = LatentRegularizedGAN.load(V1_FILE).set_params(score_type=score_type)
    with pytest.raises(ValueError, match=f"score_type='{score_type}' needs the code densities"):
        detector.decision_function(images)
    with pytest.raises(ValueError, match="refit it"):
        detector.latent_saliency(images[:1])
    assert detector.rank_form == "nuclear"  # what version-1 models were trained with


def test_latent_density_without_aux_encoder_does_not_warn(tiny, images):
    """w_zrec=0 leaves G_e' untrained, which latent_density does not use."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny(w_zrec=0, score_type="latent_density").fit(images)
    with pytest.warns(UserWarning, match="w_zrec=0"):
        tiny(w_zrec=0, score_type="residual_density").fit(images)


def test_command_line_offers_every_score_type_and_rank_form(capsys):
    """--score-type choices and --rank-form come from the tables in skanogan."""
    from skanogan.cli import main

    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    squashed = "".join(capsys.readouterr().out.split())
    assert "{" + ",".join(SCORE_TYPES) + "}" in squashed
    assert "--rank-form{nuclear,scale_free}" in squashed


def test_every_score_type_is_documented_in_the_estimator():
    """The estimator's docstring names every score type of the table."""
    doc = LatentRegularizedGAN.__doc__
    for name in SCORE_TYPES:
        assert f'"{name}"' in doc, name
