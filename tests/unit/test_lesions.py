"""The synthetic-lesion generator of the mri-synthetic benchmark (benchmarks/lesions.py)."""

import numpy as np
import pytest

from benchmarks.lesions import LesionParams, brain_depth, contrast_bin, insert_lesions, size_bin


def _phantom(shape=(80, 80, 80), radius=38.0):
    """Textured 'tissue' in [50, 150] inside a ball-shaped 'brain'; background 0."""
    rng = np.random.default_rng(0)
    data = rng.uniform(50.0, 150.0, shape).astype(np.float32)
    grid = np.indices(shape) - (np.asarray(shape)[:, None, None, None] - 1) / 2
    brain = np.sqrt((grid**2).sum(axis=0)) <= radius
    data[~brain] = 0.0
    return data, brain


def test_same_seed_same_lesions_and_other_seeds_differ():
    data, brain = _phantom()
    first = insert_lesions(data, brain, (1.0, 1.0, 1.0), np.random.default_rng(3))
    again = insert_lesions(data, brain, (1.0, 1.0, 1.0), np.random.default_rng(3))
    other = insert_lesions(data, brain, (1.0, 1.0, 1.0), np.random.default_rng(4))
    np.testing.assert_array_equal(first[0], again[0])
    assert first[2] == again[2]
    assert first[2] != other[2]


def test_a_precomputed_depth_gives_the_same_lesions():
    """Copies of one head share brain_depth: the lesions are those computed without it."""
    data, brain = _phantom()
    zooms = (1.0, 1.2, 0.9)
    depth = brain_depth(brain, zooms)
    alone = insert_lesions(data, brain, zooms, np.random.default_rng(5))
    shared = insert_lesions(data, brain, zooms, np.random.default_rng(5), depth=depth)
    np.testing.assert_array_equal(alone[0], shared[0])
    np.testing.assert_array_equal(alone[1], shared[1])
    assert alone[2] == shared[2]
    with pytest.raises(ValueError, match=r"depth \(80, 80\) must have the shape of brain"):
        insert_lesions(data, brain, zooms, np.random.default_rng(5), depth=depth[0])


def test_lesions_stay_inside_the_brain_and_leave_the_rest_untouched():
    data, brain = _phantom()
    lesioned, mask, lesions = insert_lesions(data, brain, (1.0, 1.0, 1.0), np.random.default_rng(0))
    assert 2 <= len(lesions) <= 4 and mask.any()
    assert not (mask & ~brain).any()
    np.testing.assert_array_equal(lesioned[~brain], data[~brain])
    assert mask.sum() == sum(lesion.voxels for lesion in lesions)  # they never overlap
    changed = ~np.isclose(lesioned, data, rtol=1e-3)
    assert changed.sum() >= mask.sum()  # the smooth border reaches past the mask


def test_drawn_parameters_follow_the_stated_distributions():
    """Over many volumes: diameters in 5-25 mm, half hyper/hypo, about half in the healthy
    range, and each lesion's intensity is its local tissue times (1 + contrast)."""
    data, brain = _phantom()
    params = LesionParams()
    low, high = np.percentile(data[brain], params.healthy_percentiles)
    lesions = []
    for seed in range(12):
        lesioned, _, drawn = insert_lesions(
            data, brain, (1.0, 1.0, 1.0), np.random.default_rng(seed)
        )
        for lesion in drawn:
            # The logistic border's weight at the centre, just below 1 for small lesions.
            weight = 1 / (1 + np.exp(-lesion.diameter_mm / 2 / (params.border_mm / 4)))
            core = lesioned[lesion.center] / data[lesion.center]
            assert core == pytest.approx(1 + weight * lesion.contrast, rel=1e-4)
        lesions += drawn
    diameters = np.array([lesion.diameter_mm for lesion in lesions])
    assert diameters.min() >= 5.0 and diameters.max() <= 25.0
    assert diameters.max() - diameters.min() > 12  # spread over the range, not a constant
    hyper = np.mean([lesion.polarity == "hyper" for lesion in lesions])
    inside = np.mean([lesion.in_healthy_range for lesion in lesions])
    assert 0.4 <= hyper <= 0.6 and 0.4 <= inside <= 0.6
    for lesion in lesions:
        target = lesion.local_intensity * (1 + lesion.contrast)
        assert abs(lesion.contrast) >= params.min_contrast
        assert (low <= target <= high) == lesion.in_healthy_range
        assert (lesion.contrast > 0) == (lesion.polarity == "hyper")


def test_lesions_are_round_in_millimetres_on_anisotropic_grids():
    """With 3 mm slices a lesion spans a third as many slices as rows."""
    data, brain = _phantom(shape=(96, 96, 32))
    brain &= np.abs(np.indices(data.shape)[2] - 15.5) <= 14  # keep the 'brain' inside z
    params = LesionParams(n_lesions=(1, 1), diameter_mm=(20.0, 20.0))
    zooms = (1.0, 1.0, 3.0)
    _, mask, (_lesion,) = insert_lesions(data, brain, zooms, np.random.default_rng(0), params)
    extent_mm = [
        np.ptp(np.flatnonzero(mask.any(axis=other))) + 1 for other in ((1, 2), (0, 2), (0, 1))
    ]
    extent_mm = np.array(extent_mm) * zooms
    np.testing.assert_allclose(extent_mm, 20.0, atol=3.0)


def test_bins():
    assert [size_bin(d) for d in (5.0, 9.9, 10.0, 24.9, 25.0)] == [
        "5-10 mm",
        "5-10 mm",
        "10-15 mm",
        "20-25 mm",
        "20-25 mm",
    ]
    assert contrast_bin({"polarity": "hypo", "in_healthy_range": False}) == "hypo, outside"


@pytest.mark.parametrize(
    "brain, match",
    [(np.zeros((8, 8, 8), bool), "brain mask is empty"), (np.ones((8, 8, 7), bool), "3-D shape")],
)
def test_bad_masks_are_clear_errors(brain, match):
    with pytest.raises(ValueError, match=match):
        insert_lesions(np.ones((8, 8, 8)), brain, (1.0, 1.0, 1.0), np.random.default_rng(0))


def test_a_brain_too_small_for_the_lesion_is_a_clear_error():
    data, brain = _phantom(shape=(16, 16, 16), radius=5.0)
    with pytest.raises(ValueError, match="no place left for a"):
        insert_lesions(data, brain, (1.0, 1.0, 1.0), np.random.default_rng(0))
