"""PAPER_SETTINGS: the paper's printed settings in one step."""

import pytest

from skanogan import PAPER_SETTINGS, LatentRegularizedGAN


def test_paper_settings_are_estimator_parameters_with_the_papers_values():
    """Every key is a parameter; the weights are eq. 1's printed w_i, w_a, w_z, w_o."""
    detector = LatentRegularizedGAN(**PAPER_SETTINGS)
    params = detector.get_params()
    assert {key: params[key] for key in PAPER_SETTINGS} == dict(PAPER_SETTINGS)
    weights = (detector.w_irec, detector.w_adv, detector.w_zrec, detector.w_rank)
    assert weights == (1.0, 5.0, 1.0, 0.05)
    assert (detector.score_type, detector.rank, detector.rank_form) == ("latent", 0, "nuclear")


def test_paper_settings_cannot_be_changed_by_a_caller():
    with pytest.raises(TypeError):
        PAPER_SETTINGS["w_rank"] = 0.0
