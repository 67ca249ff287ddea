"""skanogan.mri: volumes to axial slices and maps back, on tiny synthetic NIfTI files and real MRI.

Synthetic volumes are written to tmp_path in several orientations, voxel sizes and dtypes. The
real-data tests read the project's shared brain MRI folder and are skipped when it is absent.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from skanogan.mri import (
    Volume,
    head_mask,
    load_mask,
    load_volume,
    maps_to_volume,
    normalize_intensity,
    save_map,
    to_original_grid,
    volume_scores,
    volumes_to_slices,
)

nib = pytest.importorskip("nibabel")

# smooth_head() is about 60 mm wide: a 64 mm window at 16 px keeps these tests tiny.
SMALL = dict(image_size=16, field_of_view=64.0)


# ----------------------------------------------------------------------------- writers
def write_nifti(path, data_ras, *, zooms=(1.0, 1.0, 1.0), axcodes="RAS", dtype=np.float32):
    """Write a RAS-ordered array stored as ``axcodes``: the voxel order and affine change."""
    affine = np.diag([*zooms, 1.0])
    affine[:3, 3] = (-10.0, 20.0, -5.0)
    image = nib.Nifti1Image(np.asarray(data_ras).astype(dtype), affine)
    orientations = nib.orientations
    ras_to_stored = orientations.ornt_transform(
        orientations.axcodes2ornt("RAS"), orientations.axcodes2ornt(tuple(axcodes))
    )
    stored = image.as_reoriented(ras_to_stored)
    nib.save(stored, path)
    return path


def smooth_head(shape=(40, 48, 20), zooms=(1.5, 1.25, 2.0)):
    """A RAS array: an ellipsoid "head" whose intensity varies smoothly, so resampling keeps it."""
    x, y, z = (np.arange(n) * d for n, d in zip(shape, zooms, strict=True))
    x, y, z = np.meshgrid(x - x.mean(), y - y.mean(), z - z.mean(), indexing="ij")
    inside = (x / 25) ** 2 + (y / 27) ** 2 + (z / 16) ** 2 <= 1
    return np.where(inside, 400 + 150 * np.sin(x / 12) + 100 * np.cos(y / 14), 0.0)


def labelled_volume(tmp_path, tumour_voxels_per_slice):
    """A 20×20×n cube "head" (1 mm) and a tumour mask with the given voxel count per slice."""
    n = len(tumour_voxels_per_slice)
    data = np.zeros((20, 20, n))
    data[2:18, 2:18] = np.linspace(100, 200, 16)[:, None, None]
    tumour = np.zeros((20, 20, n), np.uint8)
    for k, count in enumerate(tumour_voxels_per_slice):
        tumour[5:15, 5:15, k].flat[:count] = 1
    image = write_nifti(tmp_path / "t1.nii.gz", data, axcodes="LPS", dtype=np.int16)
    mask = write_nifti(tmp_path / "tumour.nii.gz", tumour, axcodes="LPS", dtype=np.uint8)
    return image, mask


# ----------------------------------------------------------------------------- reading
def test_lps_marker_voxel_lands_where_expected_in_ras():
    """LPS storage flips the first two axes; the marker keeps its world position."""
    stored = np.zeros((4, 5, 6), np.int16)
    stored[0, 1, 2] = 9
    affine = np.diag([-2.0, -3.0, 1.5, 1.0])
    volume = Volume.from_image(nib.Nifti1Image(stored, affine))
    assert volume.original_orientation == ("L", "P", "S")
    assert volume.zooms == (2.0, 3.0, 1.5)
    assert np.argwhere(volume.data == 9).tolist() == [[3, 3, 2]]
    np.testing.assert_allclose(volume.affine @ [3, 3, 2, 1], affine @ [0, 1, 2, 1])


def test_pir_marker_voxel_lands_where_expected_in_ras(tmp_path):
    """PIR storage permutes the axes: stored (i, j, k) is RAS (k, 3 - i, 4 - j)."""
    stored = np.zeros((4, 5, 6), np.float64)
    stored[0, 1, 2] = 9.0
    affine = np.array([[0, 0, 3.0, 1], [-1.0, 0, 0, 2], [0, -2.0, 0, 3], [0, 0, 0, 1]])
    nib.save(nib.Nifti1Image(stored, affine), tmp_path / "pir.nii")
    volume = load_volume(tmp_path / "pir.nii")
    assert volume.original_orientation == ("P", "I", "R")
    assert volume.shape == (6, 4, 5) and volume.zooms == (3.0, 1.0, 2.0)
    assert np.argwhere(volume.data == 9).tolist() == [[2, 3, 3]]
    np.testing.assert_allclose(volume.affine @ [2, 3, 3, 1], affine @ [0, 1, 2, 1])
    assert volume.path == tmp_path / "pir.nii" and volume.original_shape == (4, 5, 6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float64])
def test_load_volume_reads_any_dtype_as_float32(tmp_path, dtype):
    """uint8, int16 and float64 files give the same float32 values."""
    data = np.arange(60).reshape(3, 4, 5)
    volume = load_volume(write_nifti(tmp_path / "v.nii.gz", data, axcodes="LIA", dtype=dtype))
    assert volume.data.dtype == np.float32
    np.testing.assert_array_equal(volume.data, data)


def test_load_volume_reads_a_big_endian_las_file():
    """nibabel's own anatomical.nii (big-endian int16, LAS): RAS+ flips its first axis."""
    from nibabel.testing import data_path

    path = Path(data_path) / "anatomical.nii"
    volume = load_volume(path)
    assert volume.original_orientation == ("L", "A", "S")
    np.testing.assert_array_equal(volume.data, np.asarray(nib.load(path).dataobj)[::-1])


def test_to_original_grid_undoes_the_reorientation(tmp_path):
    """RAS data put back on the stored grid equals the stored voxels."""
    path = write_nifti(tmp_path / "v.nii", smooth_head(), axcodes="PIR", dtype=np.int16)
    volume = load_volume(path)
    np.testing.assert_array_equal(to_original_grid(volume.data, volume), nib.load(path).dataobj)


def test_load_volume_missing_file_names_it(tmp_path):
    """A path that does not exist is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"nothere\.nii\.gz does not exist"):
        load_volume(tmp_path / "nothere.nii.gz")


def test_load_volume_folder_names_it(tmp_path):
    """A folder is a ValueError naming it."""
    with pytest.raises(ValueError, match="is a folder"):
        load_volume(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not an image at all " * 30], ids=["empty", "text"])
def test_load_volume_non_image_file_names_it(tmp_path, content):
    """An empty or text file, even named .nii, is a ValueError naming it."""
    path = tmp_path / "scan.nii"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"scan\.nii is not a readable image file"):
        load_volume(path)


def test_load_volume_surface_file_is_not_a_volume(tmp_path):
    """A GIFTI surface, which nibabel reads, is refused as not a volume."""
    path = tmp_path / "surface.gii"
    nib.save(nib.gifti.GiftiImage(), path)
    with pytest.raises(ValueError, match=r"surface\.gii is a GiftiImage, not a volume image"):
        load_volume(path)


@pytest.mark.parametrize("name", ["cut.nii", "cut.nii.gz"])
def test_load_volume_truncated_file_names_it(tmp_path, name):
    """A file cut short after its header is a ValueError naming it, not an EOFError/OSError."""
    full = write_nifti(tmp_path / f"full_{name}", np.random.default_rng(0).random((30, 30, 30)))
    raw = full.read_bytes()
    (tmp_path / name).write_bytes(raw[: int(len(raw) * 0.6)])
    with pytest.raises(ValueError, match=rf"{name} could not be read"):
        load_volume(tmp_path / name)


def test_load_volume_rejects_4d_and_names_the_file(tmp_path):
    """A 4-D image with several volumes is refused."""
    nib.save(nib.Nifti1Image(np.zeros((3, 4, 5, 2), np.float32), np.eye(4)), tmp_path / "bold.nii")
    with pytest.raises(ValueError, match=r"bold\.nii has shape \(3, 4, 5, 2\); expected a 3-D"):
        load_volume(tmp_path / "bold.nii")


def test_load_volume_squeezes_a_trailing_singleton_axis(tmp_path):
    """Shape (X, Y, Z, 1) loads as (X, Y, Z)."""
    nib.save(nib.Nifti1Image(np.ones((3, 4, 5, 1), np.float32), np.eye(4)), tmp_path / "one.nii")
    volume = load_volume(tmp_path / "one.nii")
    assert volume.shape == (3, 4, 5) and volume.original_shape == (3, 4, 5)


def test_mask_file_of_another_shape_names_both_files(tmp_path):
    """A brain mask on another grid is a ValueError naming the mask and the volume."""
    image = write_nifti(tmp_path / "t1.nii.gz", smooth_head())
    mask = write_nifti(tmp_path / "brain.nii.gz", np.ones((40, 48, 19)), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"brain mask .*brain\.nii\.gz does not lie on .*t1\.nii"):
        volumes_to_slices([image], brain_masks=[mask])


def test_mask_file_with_another_affine_is_refused(tmp_path):
    """A tumour mask of the right shape but other voxel sizes is refused."""
    image = write_nifti(tmp_path / "t1.nii.gz", smooth_head(), zooms=(1.5, 1.25, 2.0))
    mask = write_nifti(tmp_path / "tumour.nii.gz", np.ones((40, 48, 20)), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"tumour mask .*tumour\.nii\.gz does not lie on") as error:
        volumes_to_slices([image], tumour_masks=[mask])
    # One line, with both affines as rows (they used to print as two 4 x 4 blocks).
    message = str(error.value)
    assert "\n" not in message and "[[1.5, 0.0, 0.0," in message


def test_mask_array_must_have_the_ras_shape():
    """An array mask of another shape than the RAS+ grid is refused, naming it."""
    volume = Volume.from_image(nib.Nifti1Image(np.ones((3, 4, 5)), np.eye(4)))
    with pytest.raises(ValueError, match=r"brain mask has shape \(5, 4, 3\)"):
        load_mask(np.ones((5, 4, 3)), volume, name="brain mask")


# ----------------------------------------------------------------------------- preprocessing
def test_zscore_statistics_come_from_the_foreground_only():
    """Huge background values do not move the foreground's mean 0 and std 1."""
    rng = np.random.default_rng(0)
    data = rng.normal(300, 40, (10, 10, 10))
    mask = np.zeros(data.shape, bool)
    mask[2:8, 2:8, 2:8] = True
    data[~mask] = 1e6
    normalized = normalize_intensity(data, mask, method="zscore")
    assert normalized[mask].mean() == pytest.approx(0, abs=1e-5)
    assert normalized[mask].std() == pytest.approx(1, abs=1e-5)


def test_percentile_maps_foreground_p1_p99_to_0_1_and_clips():
    """The foreground's 1st/99th percentiles become 0/1; everything is clipped into [0, 1]."""
    data = np.arange(1000.0).reshape(10, 10, 10)
    mask = data >= 500
    normalized = normalize_intensity(data, mask, method="percentile")
    low, high = np.percentile(data[mask], [1, 99])
    assert normalized[data == 600] == pytest.approx((600 - low) / (high - low), abs=1e-6)
    assert normalized.min() == 0 and normalized.max() == 1
    assert (normalized[data < low] == 0).all()


def test_normalize_refuses_an_empty_foreground():
    """No foreground voxel: a ValueError rather than NaN images."""
    with pytest.raises(ValueError, match="mask is empty"):
        normalize_intensity(np.ones((3, 3, 3)), np.zeros((3, 3, 3), bool))


def test_head_mask_keeps_the_largest_piece_and_fills_holes():
    """Specks outside the head are dropped and a dark core inside it is filled."""
    data = smooth_head()
    head = data > 0
    data[18:22, 22:26, 8:12] = 0  # dark core
    data[0, 0, 0] = data.max()  # bright speck
    mask = head_mask(data)
    assert mask[18:22, 22:26, 8:12].all() and not mask[0, 0, 0]
    assert (mask == head).mean() > 0.99


# ----------------------------------------------------------------------------- slices
def test_min_foreground_rule_keeps_exactly_the_slices_above_it():
    """Slices whose foreground covers at least min_foreground of the field of view are kept."""
    data = np.random.default_rng(0).random((20, 20, 5)) + 1
    brain = np.zeros(data.shape, bool)
    for k, side in enumerate([0, 3, 4, 5, 10]):  # areas 0, 9, 16, 25, 100 of 400 mm²
        brain[:side, :side, k] = True
    volume = Volume.from_image(nib.Nifti1Image(data, np.eye(4)))
    slices = volumes_to_slices(
        [volume], brain_masks=[brain], field_of_view=20.0, image_size=8, min_foreground=0.04
    )
    np.testing.assert_array_equal(slices.table["slice_index"], [2, 3, 4])
    np.testing.assert_allclose(slices.table["foreground_fraction"], [0.04, 0.0625, 0.25])


def test_label_rule_needs_min_tumour_voxels(tmp_path):
    """A slice is labelled 1 from min_tumour_voxels tumour voxels; counts are in the table."""
    counts = [0, 3, 9, 10, 25, 0]
    image, mask = labelled_volume(tmp_path, counts)
    slices = volumes_to_slices(
        [image], tumour_masks=[mask], image_size=16, field_of_view=20.0, min_tumour_voxels=10
    )
    np.testing.assert_array_equal(slices.table["slice_index"], np.arange(6))
    np.testing.assert_array_equal(slices.table["tumour_voxels"], counts)
    np.testing.assert_array_equal(slices.table["label"], [0, 0, 0, 1, 1, 0])
    assert slices.masks.shape == slices.images.shape and slices.masks.dtype == np.uint8
    assert slices.masks[4].sum() > 0 and slices.masks[0].sum() == 0


def test_tumour_mask_none_entry_labels_a_volume_healthy(tmp_path):
    """With tumour_masks given, a None entry gives label 0 on all of that volume's slices."""
    image, mask = labelled_volume(tmp_path, [20, 20])
    slices = volumes_to_slices(
        [image, image],
        tumour_masks=[mask, None],
        volume_ids=["patient", "control"],
        image_size=8,
        field_of_view=20.0,
    )
    np.testing.assert_array_equal(slices.table["label"], [1, 1, 0, 0])
    np.testing.assert_array_equal(slices.table["volume_id"], ["patient"] * 2 + ["control"] * 2)


def test_no_tumour_masks_no_labels(tmp_path):
    """Without tumour masks the table has no label column and masks is None."""
    slices = volumes_to_slices([write_nifti(tmp_path / "a.nii.gz", smooth_head())], **SMALL)
    assert set(slices.table) == {"volume_id", "slice_index", "foreground_fraction"}
    assert slices.masks is None


def test_volume_ids_default_to_the_file_stem_and_must_be_unique(tmp_path):
    """ "sub-01_T1w.nii.gz" is "sub-01_T1w"; two files of the same name need volume_ids."""
    (tmp_path / "other").mkdir()
    first = write_nifti(tmp_path / "sub-01_T1w.nii.gz", smooth_head())
    second = write_nifti(tmp_path / "other" / "sub-01_T1w.nii.gz", smooth_head())
    slices = volumes_to_slices([first], **SMALL)
    assert set(slices.table["volume_id"]) == {"sub-01_T1w"}
    assert list(slices.geometries) == ["sub-01_T1w"]
    with pytest.raises(ValueError, match="volume ids must be unique"):
        volumes_to_slices([first, second], **SMALL)


def test_volumes_to_slices_refuses_a_single_path(tmp_path):
    """A bare path, not a list, is a TypeError (it would be read letter by letter)."""
    with pytest.raises(TypeError, match="volumes must be a list"):
        volumes_to_slices(str(tmp_path / "t1.nii.gz"))


@pytest.mark.parametrize(
    ("param", "value"),
    [("image_size", 1), ("spacing", 0.0), ("normalization", "minmax"), ("min_tumour_voxels", 0)],
)
def test_volumes_to_slices_names_a_bad_parameter(param, value):
    """Bad settings raise before any file is read, naming the parameter."""
    with pytest.raises(ValueError, match=f"{param} must be"):
        volumes_to_slices(["unread.nii.gz"], **{param: value})


def test_slices_fit_the_detector(tmp_path, tiny):
    """SliceSet.images goes straight into LatentRegularizedGAN."""
    slices = volumes_to_slices([write_nifti(tmp_path / "a.nii.gz", smooth_head())], **SMALL)
    assert slices.images.dtype == np.float32 and slices.images.shape[1:] == (1, 16, 16)
    scores = tiny().fit(slices.images).decision_function(slices.images)
    assert scores.shape == (len(slices.images),)


# ----------------------------------------------------------------------------- maps back
def test_map_round_trip_reproduces_the_normalised_input(tmp_path):
    """Slices used as their own maps come back onto the PIR grid close to the normalised input."""
    path = write_nifti(
        tmp_path / "head.nii.gz",
        smooth_head(),
        zooms=(1.5, 1.25, 2.0),
        axcodes="PIR",
        dtype=np.int16,
    )
    slices = volumes_to_slices([path], image_size=32, spacing=1.0, field_of_view=64.0)
    geometry = slices.geometries["head"]
    volume_map = maps_to_volume(slices.images, geometry)

    volume = load_volume(path)
    foreground = head_mask(volume.data)
    expected = to_original_grid(normalize_intensity(volume.data, foreground), volume)
    kept = np.zeros(volume.shape, bool)
    kept[:, :, geometry.slice_indices] = True
    interior = to_original_grid(ndimage.binary_erosion(foreground, iterations=2) & kept, volume)
    assert volume_map.shape == volume.original_shape == (48, 20, 40)
    error = np.abs(volume_map - expected)[interior]
    assert np.median(error) < 0.02 and error.max() < 0.1
    assert not volume_map[~to_original_grid(kept, volume)].any()


def test_save_map_writes_the_original_affine(tmp_path):
    """The saved map has the input's shape, affine and orientation, and the map's values."""
    path = write_nifti(tmp_path / "t1.nii", smooth_head(), axcodes="LPS")
    slices = volumes_to_slices([path], **SMALL)
    volume_map = maps_to_volume(slices.images, slices.geometries["t1"])
    saved = nib.load(save_map(volume_map, slices.geometries["t1"], tmp_path / "map.nii.gz"))
    np.testing.assert_allclose(saved.affine, nib.load(path).affine, atol=1e-5)
    assert nib.aff2axcodes(saved.affine) == ("L", "P", "S")
    np.testing.assert_array_equal(saved.get_fdata(dtype=np.float32), volume_map)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.nii.gz", "t1.nii"]  # no temp file


def test_save_map_refuses_to_overwrite_unless_asked(tmp_path):
    """An existing file is left alone without overwrite=True, replaced with it."""
    volume = load_volume(write_nifti(tmp_path / "t1.nii.gz", smooth_head()))
    target = tmp_path / "map.nii.gz"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_map(np.zeros(volume.original_shape), volume, target)
    assert target.read_bytes() == b"keep me"
    save_map(np.ones(volume.original_shape), volume, target, overwrite=True)
    assert nib.load(target).get_fdata().min() == 1


def test_save_map_never_writes_onto_the_input(tmp_path):
    """The input file is refused as a target, even with overwrite=True or through a symlink."""
    path = write_nifti(tmp_path / "t1.nii.gz", smooth_head())
    volume = load_volume(path)
    before = path.read_bytes()
    os.symlink(path, tmp_path / "link.nii.gz")
    for target in (path, tmp_path / "link.nii.gz"):
        with pytest.raises(ValueError, match="is the input image itself"):
            save_map(np.zeros(volume.original_shape), volume, target, overwrite=True)
    assert path.read_bytes() == before


def test_maps_to_volume_needs_one_map_per_kept_slice(tmp_path):
    """Maps for another number of slices are a ValueError naming the volume."""
    slices = volumes_to_slices([write_nifti(tmp_path / "a.nii.gz", smooth_head())], **SMALL)
    with pytest.raises(ValueError, match=r"volume 'a' needs one 16×16 map per kept slice"):
        maps_to_volume(slices.images[1:], slices.geometries["a"])


def test_volume_scores_are_the_mean_of_the_top_k_slices():
    """top_k highest slice scores per volume, averaged; fewer slices than k use all of them."""
    scores = volume_scores([1.0, 5.0, 3.0, 4.0, 2.0], ["a", "a", "a", "a", "b"], top_k=3)
    assert scores == {"a": 4.0, "b": 2.0}


# ----------------------------------------------------------------------------- real data
@pytest.fixture
def tumour_slices(shared_data_home):
    tumour = shared_data_home / "brain_mri" / "tumour"
    return volumes_to_slices(
        [tumour / "slicer_mrbraintumor2_t1.nii.gz"],
        tumour_masks=[tumour / "slicer_mrbraintumor2_tumour_mask.nii.gz"],
    )


def test_real_tumour_slices_are_labelled_in_one_contiguous_range(tumour_slices):
    """MRBrainTumor2: tumour slices form one run, inside the brain, not at its ends."""
    table = tumour_slices.table
    tumour_rows = np.flatnonzero(table["label"] == 1)
    assert 10 <= tumour_rows.size <= 60
    assert (np.diff(table["slice_index"][tumour_rows]) == 1).all()
    n_slices = tumour_slices.geometries["slicer_mrbraintumor2_t1"].ras_shape[2]
    assert 0.2 * n_slices < table["slice_index"][tumour_rows].mean() < 0.9 * n_slices
    assert table["tumour_voxels"].sum() <= 16722  # the tumour's voxel count
    assert tumour_slices.masks[tumour_rows].any(axis=(1, 2, 3)).all()


def test_real_tumour_images_are_normalised_model_inputs(tumour_slices):
    """(n, 1, 64, 64) float32 in [0, 1], with a real share of foreground per slice."""
    images = tumour_slices.images
    assert images.shape[1:] == (1, 64, 64) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert (tumour_slices.table["foreground_fraction"] >= 0.05).all()


def test_real_thick_slice_las_volume_loads_slices_and_maps_back(tmp_path, shared_data_home):
    """pyradiomics brain1 (LAS, 6.5 mm slices) round-trips onto its own grid and affine."""
    path = shared_data_home / "brain_mri" / "tumour" / "pyradiomics_brain1_t1.nii.gz"
    volume = load_volume(path)
    assert volume.original_orientation == ("L", "A", "S")
    np.testing.assert_allclose(volume.zooms, (0.78125, 0.78125, 6.5), rtol=1e-3)
    slices = volumes_to_slices(
        [volume], tumour_masks=[path.with_name("pyradiomics_brain1_lesion_mask.nii.gz")]
    )
    assert 15 <= len(slices.images) <= 25 and slices.table["label"].sum() >= 3
    # At the scan's own pixel size and field of view the round trip is close to the identity
    # (at the defaults, 3.75 mm model pixels lose the fine detail of 0.78 mm voxels).
    native = volumes_to_slices([volume], spacing=0.78125, field_of_view=200.0, image_size=256)
    geometry = native.geometries["pyradiomics_brain1_t1"]
    volume_map = maps_to_volume(native.images, geometry)
    foreground = head_mask(volume.data)
    expected = to_original_grid(normalize_intensity(volume.data, foreground), volume)
    kept = np.zeros(volume.shape, bool)
    kept[:, :, geometry.slice_indices] = True
    inside = to_original_grid(foreground & kept, volume)
    assert np.corrcoef(volume_map[inside], expected[inside])[0, 1] > 0.99
    saved = nib.load(save_map(volume_map, geometry, tmp_path / "map.nii.gz"))
    assert saved.shape == (256, 256, 25)
    np.testing.assert_allclose(saved.affine, nib.load(path).affine, atol=1e-4)


# ----------------------------------------------------------------------------- a detector
def test_score_slices_and_volume_maps_follow_the_slices(tmp_path):
    """A fitted detector gives one table row per slice and a map on each original grid."""
    from skanogan import LatentRegularizedGAN
    from skanogan.mri import score_slices, volume_maps

    image, mask = labelled_volume(tmp_path, [0, 0, 12, 30, 0, 0])
    slices = volumes_to_slices([image], tumour_masks=[mask], image_size=16, field_of_view=20.0)
    # The paper's latent score: one epoch on 6 slices maps them all to the same code, so the
    # density scores, which measure distance from the training codes, are 0 on these very
    # slices, and so is their gradient (tests/integration/test_density_scores.py).
    detector = LatentRegularizedGAN(
        latent_dim=4, base_channels=4, epochs=1, score_type="latent", random_state=0
    )
    detector.fit(slices.images)
    table = score_slices(detector, slices)
    assert set(table) == {"volume", "slice", "score", "label", "tumour"}
    np.testing.assert_array_equal(table["score"], detector.decision_function(slices.images))
    np.testing.assert_array_equal(table["tumour"], [0, 0, 1, 1, 0, 0])
    (volume_id,) = slices.geometries
    maps = volume_maps(detector, slices)
    assert maps[volume_id].shape == (20, 20, 6) and (maps[volume_id] >= 0).all()
    assert maps[volume_id].sum() > 0
    saliency = volume_maps(detector, slices, kind="saliency")[volume_id]
    assert saliency.shape == (20, 20, 6) and saliency.sum() > 0
    assert not np.allclose(saliency, maps[volume_id])
    with pytest.raises(ValueError, match="kind must be 'residual' or 'saliency'"):
        volume_maps(detector, slices, kind="gradient")


def test_outside_mask_background_strips_what_lies_outside_the_brain_mask():
    """A bright "skull" shell around a smaller "brain": kept by default, 0 with "background"."""
    data = smooth_head()
    inside = data > 0
    brain = ndimage.binary_erosion(inside, iterations=4)
    data = np.where(inside & ~brain, 2000.0, data)  # the skull, brighter than the brain
    volume = Volume.from_image(nib.Nifti1Image(data.astype(np.float32), np.eye(4)))
    kept = volumes_to_slices([volume], brain_masks=[brain], image_size=16, field_of_view=60.0)
    stripped = volumes_to_slices(
        [volume], brain_masks=[brain], image_size=16, field_of_view=60.0, outside_mask="background"
    )
    # Same normalisation (fitted on the brain); only the skull's pixels went dark. Resampling
    # is linear, so stripping can only lower a pixel.
    assert (stripped.images <= kept.images + 1e-6).all()
    assert kept.images.sum() - stripped.images.sum() > 0.2 * kept.images.sum()
    np.testing.assert_array_equal(kept.table["slice_index"], stripped.table["slice_index"])
    with pytest.raises(ValueError, match="outside_mask"):
        volumes_to_slices([volume], outside_mask="zero")
