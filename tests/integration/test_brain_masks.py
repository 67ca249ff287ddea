"""The brain masks of the MRI benchmark's lesion-free volumes, checked on the real data.

Every test reads the project's shared ``brain_mri`` folder and is skipped when it is absent.
Only the geometry test needs SimpleITK (which only regenerating the masks uses).
"""

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from benchmarks import brain_masks as bm
from benchmarks.mri import HEALTHY, TEMPLATES
from skanogan.mri import head_mask


@pytest.fixture
def data_home(shared_data_home):
    """The folder that holds ``brain_mri/``; skips when the brain MRI volumes are absent."""
    if not (shared_data_home / "brain_mri").is_dir():
        pytest.skip(f"brain MRI volumes not found at {shared_data_home / 'brain_mri'}")
    return shared_data_home


def _image(data_home, volume_id):
    return nib.load(data_home / "brain_mri" / bm.VOLUMES[volume_id])


def test_every_benchmark_volume_without_lesions_has_a_mask_source():
    assert set(bm.MASK_SOURCES) == set(HEALTHY) | set(TEMPLATES) == set(bm.INPUTS)
    for volume_id, (method, source) in bm.MASK_SOURCES.items():
        assert method in {"bet", "threshold", "registration", "provided"}
        if method != "provided":
            assert (bm.MASK_DIR / source).is_file(), f"{volume_id}: {source} is not committed"


@pytest.mark.parametrize("volume_id", sorted(bm.MASK_SOURCES))
def test_mask_is_one_plausible_brain_inside_the_head(data_home, volume_id):
    """Image's grid, 0.9–2.0 litres, one 6-connected piece, at least 99 % inside the head."""
    mask = bm.load_brain_mask(volume_id, data_home)
    image = _image(data_home, volume_id)
    assert mask.dtype == bool and mask.shape == image.shape
    assert mask.any()
    litres = mask.sum() * float(np.prod(image.header.get_zooms()[:3])) / 1e6
    assert 0.9 < litres < 2.0, f"{volume_id}: {litres:.3f} L"
    labels, n_pieces = ndimage.label(mask)
    if bm.MASK_SOURCES[volume_id][0] == "provided":
        # FSL's mask as shipped: five specks of 1-4 voxels beside the brain, kept as they are.
        assert mask.sum() - np.bincount(labels.ravel())[1:].max() <= 20
    else:
        assert n_pieces == 1
    # The intensity head mask is computed on the RAS+ grid: reorient the brain mask there.
    canonical = nib.as_closest_canonical(image)
    to_ras = nib.orientations.ornt_transform(
        nib.io_orientation(image.affine), nib.io_orientation(canonical.affine)
    )
    ras_mask = nib.orientations.apply_orientation(mask, to_ras).astype(bool)
    head = head_mask(canonical.get_fdata(dtype=np.float32))
    inside = (ras_mask & head).sum() / ras_mask.sum()
    assert inside > 0.99, f"{volume_id}: {inside:.4f} of the brain mask inside the head"
    # ... and the brain is well inside the head: the scalp and skull are left out.
    assert ras_mask.sum() < 0.8 * head.sum() or volume_id == "mni_icbm152_2009a_sym_t1"


def test_colin27_bet_mask_agrees_with_the_mni152_template_mask(data_home):
    """Two independent methods: Colin27 is in MNI space, so the template's mask fits it as is."""
    colin = _image(data_home, "colin27_t1")
    template_mask = nib.load(data_home / "brain_mri" / bm.TEMPLATE_MASK)
    resampled = bm.resample_nearest(
        np.asarray(template_mask.dataobj), template_mask.affine, colin.shape, colin.affine
    )
    bet = bm.load_brain_mask("colin27_t1", data_home)
    assert bm.dice(bet, resampled > 0) > 0.93  # measured 0.959


@pytest.mark.parametrize(
    "volume_id", [v for v, (method, _) in bm.MASK_SOURCES.items() if method in {"bet", "threshold"}]
)
def test_committed_masks_without_registration_are_regenerated_exactly(data_home, volume_id):
    assert np.array_equal(bm.derive_mask(volume_id, data_home), bm.load_brain_mask(volume_id))


def test_sha256sums_cover_every_input_and_a_changed_input_is_refused(
    data_home, tmp_path, monkeypatch
):
    for volume_id in bm.MASK_SOURCES:
        bm.verify_inputs(volume_id, data_home)
    recorded = (bm.MASK_DIR / "SHA256SUMS").read_text()
    name = f"brain_mri/{bm.VOLUMES['colin27_t1']}"
    digest = next(line.split()[0] for line in recorded.splitlines() if line.endswith(name))
    (tmp_path / "SHA256SUMS").write_text(recorded.replace(digest, "0" * 64))
    monkeypatch.setattr(bm, "MASK_DIR", tmp_path)
    with pytest.raises(ValueError, match="regenerate"):
        bm.verify_inputs("colin27_t1", data_home)
    bm.verify_inputs("slicer_mrhead_t1", data_home)  # its inputs are unchanged


def test_unknown_volume_id_is_refused(data_home):
    with pytest.raises(ValueError, match="unknown volume id"):
        bm.load_brain_mask("pyradiomics_brain1", data_home)


@pytest.mark.parametrize("volume_id", ["itk_kmeanstest_t1", "slicer_mrhead_t1"])
def test_sitk_images_have_nibabels_voxel_to_world_map(data_home, volume_id):
    """The registration's images: ITK's LPS point of each corner voxel is nibabel's RAS one."""
    pytest.importorskip("SimpleITK", reason="SimpleITK (the masks extra) builds the images")
    image = _image(data_home, volume_id)
    sitk_image = bm.to_sitk(np.zeros(image.shape, np.float32), image.affine)
    assert sitk_image.GetSize() == image.shape
    for corner in np.ndindex(2, 2, 2):
        index = [int(c * (n - 1)) for c, n in zip(corner, image.shape, strict=True)]
        ras = image.affine @ [*index, 1]
        lps = sitk_image.TransformIndexToPhysicalPoint(index)
        np.testing.assert_allclose(lps, [-ras[0], -ras[1], ras[2]], atol=1e-3)


@pytest.mark.slow  # 23 s single-threaded: two registration stages on a 1 mm head
def test_template_registration_finds_colin27_moved_in_world_space(data_home):
    """The registration path on the one head with an independent mask (BET).

    Colin27 is already in MNI space, so its header is first moved (10 degrees about the
    left-right axis, 15, -10, 8 mm) to give the registration something to find. Similarity and
    affine stages only (the B-spline stage of the committed masks takes minutes).
    """
    sitk = pytest.importorskip("SimpleITK", reason="the registration needs SimpleITK (masks extra)")
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    colin = _image(data_home, "colin27_t1")
    template = _image(data_home, bm.TEMPLATE_ID)
    template_mask = np.asarray(nib.load(data_home / "brain_mri" / bm.TEMPLATE_MASK).dataobj) > 0
    angle = np.deg2rad(10.0)
    moved = np.eye(4)
    moved[1:3, 1:3] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    moved[:3, 3] = [15.0, -10.0, 8.0]
    warped = bm.register_template(
        colin.get_fdata(dtype=np.float32),
        moved @ colin.affine,
        template.get_fdata(dtype=np.float32),
        template.affine,
        template_mask,
        bspline=False,
    )
    bet = bm.load_brain_mask("colin27_t1", data_home)
    unregistered = bm.resample_nearest(
        template_mask, template.affine, colin.shape, moved @ colin.affine
    )
    assert bm.dice(warped, bet) > 0.92  # measured 0.943
    assert bm.dice(unregistered > 0, bet) < 0.85  # the move is large enough to matter
