"""A brain mask for every head of the MRI benchmark, on each volume's own voxel grid.

The synthetic-lesion benchmark inserts lesions inside the brain and computes pixel metrics
inside it, so each of the five lesion-free volumes of :data:`benchmarks.mri.HEALTHY` and
:data:`benchmarks.mri.TEMPLATES` needs one. Where a mask comes from (:data:`MASK_SOURCES`):

``mni152_nlin6asym_t1_1mm``
    *Provided*: FSL's MNI152 NLin6Asym brain mask
    (``templates/mni152_nlin6asym_brain_mask_1mm.nii.gz``, same grid), read from the shared
    folder as it is: 1.83 L, with holes where it leaves out parts of the ventricles (10,714
    voxels) and five specks of 1-4 voxels beside the brain.
``mni_icbm152_2009a_sym_t1``
    *Derived, threshold*: the template is skull-stripped and its background is exactly 0 (no
    voxel in 1..19, checked), so the mask is ``image > 0``, its largest 6-connected component,
    holes filled in 3-D. ``image > 0`` is in fact already one component without holes.
``colin27_t1``
    *Derived, from BET*: ``healthy/colin27_t1_brain.nii.gz`` is the same subject, on the same
    grid, skull-stripped by FSL's BET (its brain voxels are >= 8, the rest 0). Mask:
    ``brain > 0``, a binary closing with the 6-connected ball of radius 2 voxels (2 mm; the
    stripped copy has ragged, streaky gaps along the interhemispheric fissure, seen on the
    midline sagittal slice, and the closing smooths them: +1.8 % of voxels), the largest
    6-connected component, holes filled in 3-D and then in each axial slice.
``slicer_mrhead_t1``, ``itk_kmeanstest_t1``
    *Derived, by registration*: no mask or stripped copy exists, so the MNI152 NLin6Asym
    template *with skull* is registered to the head with SimpleITK and its provided brain mask
    is resampled onto the head's grid with nearest-neighbour interpolation
    (:func:`register_template`). Both images enter SimpleITK with the geometry nibabel reads
    (:func:`to_sitk`), so the two libraries agree on the voxel-to-world map. Stages, each with
    Mattes mutual information (50 bins, random sampling of :data:`SAMPLES` voxels of the fixed
    image per level, seed :data:`SEED`), linear interpolation of the moving image, regular-step
    gradient descent with scales from physical shift:

    1. initialisation by the images' centres of mass (``CenteredTransformInitializer``,
       ``MOMENTS``);
    2. similarity (rotation, translation, one scale), shrink 8, 4, 2 / smoothing 4, 2, 1 mm;
    3. affine, initialised by 2, shrink 4, 2 / smoothing 2, 1 mm;
    4. a B-spline (control grid 6³ over the head, L-BFGS-B, 50 iterations per level, shrink 4,
       2 / smoothing 2, 1 mm) composed after the affine: with the affine alone the template's
       mask overshoots the brain in places (the frontal pole and the vertex of
       ``itk_kmeanstest_t1``, 1.50 L); the B-spline pulls it onto the brain's surface
       (1.41 L, seen in the PNGs).

    A fixed number of samples rather than a fixed fraction: 5 % of the coarsest level of the
    low-resolution head is about 100 voxels, and with it the similarity stage settled with the
    mask over the forehead.

    The warped mask is then intersected with the head's intensity mask
    (:func:`skanogan.mri.head_mask`, drops any part outside the head) and reduced to its
    largest 6-connected component, holes filled in 3-D and in each axial slice: the provided
    template mask leaves out parts of the ventricles (holes inside the mask), which the other
    masks include.

Every derived mask is a uint8 0/1 NIfTI with its image's affine and shape in
``benchmarks/data/brain_masks/<volume_id>.nii.gz``; ``SHA256SUMS`` there lists the inputs they
were made from, and :func:`load_brain_mask` refuses a mask whose inputs have changed since.
SimpleITK runs single-threaded with a fixed seed, so a rerun writes the same masks::

    python -m benchmarks.brain_masks --data-home DIR --out benchmarks/data/brain_masks \\
        --png docs/img/brain_masks

SimpleITK (``pip install skanogan[masks]``) is needed only to regenerate the masks, not to
load them.

See Also
--------
benchmarks.mri : the volumes, their ids and the benchmark that uses them.
skanogan.mri.head_mask : the intensity head mask.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from benchmarks.mri import HEALTHY, TEMPLATES, brain_mri_folder

__all__ = [
    "INPUTS",
    "MASK_DIR",
    "MASK_SOURCES",
    "SEED",
    "VOLUMES",
    "derive_mask",
    "dice",
    "largest_component",
    "load_brain_mask",
    "plot_mask",
    "register_template",
    "resample_nearest",
    "to_sitk",
    "verify_inputs",
]

#: Every volume that has a brain mask: id -> image path inside ``brain_mri/``.
VOLUMES: dict[str, str] = {**HEALTHY, **TEMPLATES}
#: The repository folder of the derived masks and of ``SHA256SUMS``.
MASK_DIR = Path(__file__).resolve().parent / "data" / "brain_masks"
#: The template registered to heads without a mask, and its provided brain mask.
TEMPLATE_ID = "mni152_nlin6asym_t1_1mm"
TEMPLATE_MASK = "templates/mni152_nlin6asym_brain_mask_1mm.nii.gz"
COLIN27_BET = "healthy/colin27_t1_brain.nii.gz"
#: Seed of SimpleITK's random metric sampling.
SEED = 20240517
#: Voxels of the fixed image sampled per level by the metric (all of them when fewer).
SAMPLES = 50_000

#: volume id -> (method, mask source): ``"provided"`` masks are paths inside ``brain_mri/``,
#: the others files of :data:`MASK_DIR`.
MASK_SOURCES: dict[str, tuple[str, str]] = {
    "colin27_t1": ("bet", "colin27_t1.nii.gz"),
    "itk_kmeanstest_t1": ("registration", "itk_kmeanstest_t1.nii.gz"),
    "slicer_mrhead_t1": ("registration", "slicer_mrhead_t1.nii.gz"),
    "mni_icbm152_2009a_sym_t1": ("threshold", "mni_icbm152_2009a_sym_t1.nii.gz"),
    "mni152_nlin6asym_t1_1mm": ("provided", TEMPLATE_MASK),
}
#: volume id -> the files of ``brain_mri/`` its mask depends on (checked against SHA256SUMS).
INPUTS: dict[str, tuple[str, ...]] = {
    "colin27_t1": (VOLUMES["colin27_t1"], COLIN27_BET),
    "itk_kmeanstest_t1": (VOLUMES["itk_kmeanstest_t1"], VOLUMES[TEMPLATE_ID], TEMPLATE_MASK),
    "slicer_mrhead_t1": (VOLUMES["slicer_mrhead_t1"], VOLUMES[TEMPLATE_ID], TEMPLATE_MASK),
    "mni_icbm152_2009a_sym_t1": (VOLUMES["mni_icbm152_2009a_sym_t1"],),
    "mni152_nlin6asym_t1_1mm": (VOLUMES[TEMPLATE_ID], TEMPLATE_MASK),
}


def _check_id(volume_id: str) -> None:
    if volume_id not in MASK_SOURCES:
        raise ValueError(f"unknown volume id {volume_id!r}; expected one of {sorted(MASK_SOURCES)}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recorded_sums() -> dict[str, str]:
    sums = {}
    for line in (MASK_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def verify_inputs(volume_id: str, data_home: str | os.PathLike | None = None) -> None:
    """Raise ``ValueError`` when an input of ``volume_id``'s mask differs from ``SHA256SUMS``."""
    _check_id(volume_id)
    folder = brain_mri_folder(data_home)
    recorded = _recorded_sums()
    for name in INPUTS[volume_id]:
        key = f"brain_mri/{name}"
        if key not in recorded:
            raise ValueError(f"{key} is not in {MASK_DIR / 'SHA256SUMS'}; regenerate the masks")
        if _sha256(folder / name) != recorded[key]:
            raise ValueError(
                f"{folder / name} differs from the file the brain mask of {volume_id!r} was made "
                "from; regenerate the masks with python -m benchmarks.brain_masks"
            )


def load_brain_mask(
    volume_id: str, data_home: str | os.PathLike | None = None, *, verify: bool = True
) -> np.ndarray:
    """The brain mask of one benchmark volume, on the volume's original voxel grid.

    Parameters
    ----------
    volume_id : str
        A key of :data:`MASK_SOURCES` (the ids of :data:`benchmarks.mri.HEALTHY` and
        :data:`benchmarks.mri.TEMPLATES`).
    data_home : path-like, optional
        The folder that holds ``brain_mri/`` (default: the project's ``shared/data``).
    verify : bool, default=True
        Check the mask's inputs against ``SHA256SUMS`` (:func:`verify_inputs`) and its affine
        against the image's.

    Returns
    -------
    mask : ndarray of bool
        Same shape as the image's NIfTI data array, in the file's own axis order (not
        reoriented to RAS+).
    """
    import nibabel as nib

    _check_id(volume_id)
    folder = brain_mri_folder(data_home)
    method, source = MASK_SOURCES[volume_id]
    path = folder / source if method == "provided" else MASK_DIR / source
    mask_img = nib.load(path)
    mask = np.asarray(mask_img.dataobj) > 0
    if verify:
        verify_inputs(volume_id, data_home)
        image = nib.load(folder / VOLUMES[volume_id])
        if mask.shape != image.shape or not np.allclose(mask_img.affine, image.affine, atol=1e-4):
            raise ValueError(f"the mask {path} is not on the grid of {volume_id!r}")
    return mask


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 6-connected component of ``mask`` with its 3-D holes filled."""
    labels, n = ndimage.label(mask)
    if n == 0:
        return np.zeros(mask.shape, bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == int(np.argmax(sizes)))


def _fill_slices(mask: np.ndarray, axis: int) -> np.ndarray:
    out = mask.copy()
    for i in range(mask.shape[axis]):
        index = [slice(None)] * 3
        index[axis] = i
        out[tuple(index)] = ndimage.binary_fill_holes(mask[tuple(index)])
    return out


def _axial_axis(affine: np.ndarray) -> int:
    """The voxel axis closest to the world's inferior-superior axis."""
    import nibabel as nib

    return [code in "SI" for code in nib.aff2axcodes(affine)].index(True)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two boolean arrays of one shape."""
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int(np.logical_and(a, b).sum()) / total if total else 1.0


def resample_nearest(
    data: np.ndarray, affine: np.ndarray, shape: Sequence[int], target_affine: np.ndarray
) -> np.ndarray:
    """``data`` (voxel-to-world ``affine``) sampled at the voxel centres of a target grid.

    Nearest neighbour, 0 outside ``data``: for masks already in one world space (e.g. Colin27
    and the MNI152 template), with no registration.
    """
    voxel_map = np.linalg.inv(affine) @ target_affine
    return ndimage.affine_transform(
        np.asarray(data),
        voxel_map[:3, :3],
        offset=voxel_map[:3, 3],
        output_shape=tuple(shape),
        order=0,
        mode="constant",
        cval=0,
    )


# --------------------------------------------------------------------------- derivation


def to_sitk(data: np.ndarray, affine: np.ndarray) -> Any:
    """A SimpleITK image of ``data`` (X, Y, Z) whose geometry is nibabel's RAS ``affine``.

    ITK's physical space is LPS: the first two world axes change sign. Building the image from
    nibabel's affine (rather than letting SimpleITK read the file) makes both libraries use the
    same voxel-to-world map.
    """
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(np.asarray(data, np.float32).T))
    lps = np.diag([-1.0, -1.0, 1.0])
    linear = lps @ affine[:3, :3]
    spacing = np.linalg.norm(linear, axis=0)
    image.SetSpacing([float(s) for s in spacing])
    image.SetDirection([float(v) for v in (linear / spacing).ravel()])
    image.SetOrigin([float(v) for v in lps @ affine[:3, 3]])
    return image


def _registration(sitk: Any, fixed: Any, shrink: Sequence[int], smooth: Sequence[float]) -> Any:
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=50)
    method.SetMetricSamplingStrategy(method.RANDOM)
    n_voxels = float(np.prod(fixed.GetSize()))
    fractions = [min(1.0, SAMPLES * s**3 / n_voxels) for s in shrink]
    method.SetMetricSamplingPercentagePerLevel(fractions, SEED)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetShrinkFactorsPerLevel(list(shrink))
    method.SetSmoothingSigmasPerLevel(list(smooth))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method


def _gradient_descent(
    sitk: Any, fixed: Any, shrink: Sequence[int], smooth: Sequence[float], *, learning_rate: float
) -> Any:
    """A :func:`_registration` stage with regular-step gradient descent, scaled by shift."""
    method = _registration(sitk, fixed, shrink, smooth)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=learning_rate, minStep=1e-4, numberOfIterations=200, relaxationFactor=0.5
    )
    method.SetOptimizerScalesFromPhysicalShift()
    return method


def _execute(method: Any, fixed: Any, moving: Any, stage: str, log: Callable[[str], None]) -> None:
    start = time.perf_counter()
    method.Execute(fixed, moving)
    log(f"  {stage}: MI {method.GetMetricValue():.4f} ({time.perf_counter() - start:.0f} s)")


def register_template(
    fixed_data: np.ndarray,
    fixed_affine: np.ndarray,
    moving_data: np.ndarray,
    moving_affine: np.ndarray,
    moving_mask: np.ndarray,
    *,
    bspline: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> np.ndarray:
    """Register a template (moving) to a head (fixed); its mask on the head's grid.

    The stages and their parameters are those of the module docstring; ``bspline=False`` stops
    after the affine. Returns a bool array of ``fixed_data``'s shape (nearest neighbour).
    """
    import SimpleITK as sitk

    fixed = to_sitk(fixed_data, fixed_affine)
    moving = to_sitk(moving_data, moving_affine)
    initial = sitk.CenteredTransformInitializer(
        fixed, moving, sitk.Similarity3DTransform(), sitk.CenteredTransformInitializerFilter.MOMENTS
    )
    similarity = _gradient_descent(sitk, fixed, (8, 4, 2), (4.0, 2.0, 1.0), learning_rate=1.0)
    similarity.SetInitialTransform(initial, inPlace=True)
    _execute(similarity, fixed, moving, "similarity", log)
    similarity_tx = sitk.Similarity3DTransform(initial)

    affine_tx = sitk.AffineTransform(3)
    affine_tx.SetMatrix(similarity_tx.GetMatrix())
    affine_tx.SetTranslation(similarity_tx.GetTranslation())
    affine_tx.SetCenter(similarity_tx.GetCenter())
    affine = _gradient_descent(sitk, fixed, (4, 2), (2.0, 1.0), learning_rate=0.5)
    affine.SetInitialTransform(affine_tx, inPlace=True)
    _execute(affine, fixed, moving, "affine", log)
    transform = sitk.CompositeTransform(3)
    transform.AddTransform(affine_tx)

    if bspline:
        # The B-spline acts in the template's space after the affine: optimise it with the
        # affine as a fixed initial transform of the moving image.
        grid = sitk.BSplineTransformInitializer(fixed, [6, 6, 6], order=3)
        method = _registration(sitk, fixed, (4, 2), (2.0, 1.0))
        method.SetOptimizerAsLBFGSB(
            gradientConvergenceTolerance=1e-5, numberOfIterations=50, maximumNumberOfCorrections=5
        )
        method.SetMovingInitialTransform(affine_tx)
        method.SetInitialTransform(grid, inPlace=True)
        _execute(method, fixed, moving, "b-spline", log)
        transform.AddTransform(grid)

    warped = sitk.Resample(
        to_sitk(moving_mask.astype(np.float32), moving_affine),
        fixed,
        transform,
        sitk.sitkNearestNeighbor,
        0.0,
        sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(warped).T > 0.5


def _canonical_head_mask(image: Any) -> np.ndarray:
    """:func:`skanogan.mri.head_mask` on the RAS+ grid, returned on the file's grid."""
    import nibabel as nib

    from skanogan.mri import head_mask

    canonical = nib.as_closest_canonical(image)
    mask = head_mask(canonical.get_fdata(dtype=np.float32))
    # Back from RAS+ to the file's axis order.
    transform = nib.orientations.ornt_transform(
        nib.io_orientation(canonical.affine), nib.io_orientation(image.affine)
    )
    return nib.orientations.apply_orientation(mask, transform).astype(bool)


def derive_mask(
    volume_id: str,
    data_home: str | os.PathLike | None = None,
    *,
    log: Callable[[str], None] = lambda message: None,
) -> np.ndarray:
    """Recompute the mask of one *derived* volume (the method of the module docstring)."""
    import nibabel as nib

    _check_id(volume_id)
    folder = brain_mri_folder(data_home)
    method, _ = MASK_SOURCES[volume_id]
    image = nib.load(folder / VOLUMES[volume_id])
    if method == "threshold":
        return largest_component(np.asarray(image.dataobj) > 0)
    if method == "bet":
        brain = np.asarray(nib.load(folder / COLIN27_BET).dataobj) > 0
        ball = ndimage.iterate_structure(ndimage.generate_binary_structure(3, 1), 2)
        return _fill_slices(largest_component(ndimage.binary_closing(brain, ball)), axis=2)
    if method == "registration":
        template = nib.load(folder / VOLUMES[TEMPLATE_ID])
        template_mask = np.asarray(nib.load(folder / TEMPLATE_MASK).dataobj) > 0
        warped = register_template(
            image.get_fdata(dtype=np.float32),
            image.affine,
            template.get_fdata(dtype=np.float32),
            template.affine,
            template_mask,
            log=log,
        )
        brain = largest_component(warped & _canonical_head_mask(image))
        return _fill_slices(brain, axis=_axial_axis(image.affine))
    raise ValueError(f"the mask of {volume_id!r} is provided, not derived")


# --------------------------------------------------------------------------- PNGs


def plot_mask(volume_id: str, mask: np.ndarray, path: Path, data_home=None) -> None:
    """Three orthogonal slices (two rows: through the mask's centre and off-centre), outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nibabel as nib

    image = nib.load(brain_mri_folder(data_home) / VOLUMES[volume_id])
    canonical = nib.as_closest_canonical(image)
    data = canonical.get_fdata(dtype=np.float32)
    transform = nib.orientations.ornt_transform(
        nib.io_orientation(image.affine), nib.io_orientation(canonical.affine)
    )
    ras_mask = nib.orientations.apply_orientation(mask, transform) > 0
    zooms = canonical.header.get_zooms()[:3]
    centre = np.round(ndimage.center_of_mass(ras_mask)).astype(int)
    extent = [
        np.flatnonzero(ras_mask.any(axis=tuple(a for a in range(3) if a != k))) for k in range(3)
    ]
    vmax = float(np.percentile(data, 99.5))
    fig, axes = plt.subplots(2, 3, figsize=(10.5, 7.5))
    names = ("sagittal", "coronal", "axial")
    for row in range(2):
        for axis in range(3):
            if row == 0:
                index = int(centre[axis])
            else:  # halfway between the centre and the mask's edge (right, anterior, superior)
                index = int((centre[axis] + extent[axis][-1]) // 2)
            take = [slice(None)] * 3
            take[axis] = index
            image_slice = data[tuple(take)].T
            mask_slice = ras_mask[tuple(take)].T
            others = [a for a in range(3) if a != axis]
            ax = axes[row, axis]
            ax.imshow(
                image_slice,
                cmap="gray",
                origin="lower",
                vmin=0,
                vmax=vmax,
                aspect=zooms[others[1]] / zooms[others[0]],
                interpolation="nearest",
            )
            if mask_slice.any():
                ax.contour(mask_slice, levels=[0.5], colors="#ff3030", linewidths=0.9)
            ax.set_title(f"{names[axis]} {index}", fontsize=9)
            ax.axis("off")
    volume_l = mask.sum() * float(np.prod(zooms)) / 1e6
    method = MASK_SOURCES[volume_id][0]
    fig.suptitle(f"{volume_id}: brain mask ({method}), {volume_l:.2f} L", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=70, metadata={"Software": None})
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def _save_mask(mask: np.ndarray, image: Any, path: Path) -> None:
    import gzip

    import nibabel as nib

    out = nib.Nifti1Image(mask.astype(np.uint8), image.affine)
    out.set_qform(image.affine, code=1)
    out.set_sform(image.affine, code=1)
    out.header.set_data_dtype(np.uint8)
    # gzip with a fixed mtime, so a rerun writes the same bytes.
    raw = out.to_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file, gzip.GzipFile(fileobj=file, mode="wb", mtime=0) as stream:
        stream.write(raw)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.brain_masks``: regenerate the masks, SHA256SUMS and PNGs."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.brain_masks", description=__doc__)
    parser.add_argument("--data-home", default=None, help="folder that holds brain_mri/")
    parser.add_argument("--out", type=Path, default=MASK_DIR, help="folder of the masks")
    parser.add_argument("--png", type=Path, default=None, help="folder of the PNGs (optional)")
    parser.add_argument("--volumes", nargs="*", default=list(MASK_SOURCES), help="volume ids")
    parser.add_argument("--threads", type=int, default=1, help="SimpleITK threads (1: exact)")
    args = parser.parse_args(argv)
    import nibabel as nib

    folder = brain_mri_folder(args.data_home)
    derived = [v for v in args.volumes if MASK_SOURCES[v][0] != "provided"]
    if any(MASK_SOURCES[v][0] == "registration" for v in derived):
        import SimpleITK as sitk

        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(args.threads)
    for volume_id in args.volumes:
        _check_id(volume_id)
        start = time.perf_counter()
        print(f"{volume_id} ({MASK_SOURCES[volume_id][0]})", flush=True)
        image = nib.load(folder / VOLUMES[volume_id])
        if volume_id in derived:
            mask = derive_mask(volume_id, args.data_home, log=print)
            _save_mask(mask, image, args.out / MASK_SOURCES[volume_id][1])
        else:
            mask = np.asarray(nib.load(folder / MASK_SOURCES[volume_id][1]).dataobj) > 0
        litres = mask.sum() * float(np.prod(image.header.get_zooms()[:3])) / 1e6
        print(f"  {litres:.3f} L, {time.perf_counter() - start:.0f} s", flush=True)
        if args.png is not None:
            plot_mask(volume_id, mask, args.png / f"{volume_id}.png", args.data_home)
    names = sorted({name for inputs in INPUTS.values() for name in inputs})
    lines = [f"{_sha256(folder / name)}  brain_mri/{name}" for name in names]
    (args.out / "SHA256SUMS").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
