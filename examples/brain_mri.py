"""Brain MRI end to end: fit on healthy heads, score tumour patients, write a table and maps.

The detector is fitted on the axial slices of the healthy heads and templates of the shared
``brain_mri`` folder (never on a patient), then scores every slice of the two 3D Slicer tumour
patients: MRBrainTumor2, whose tumour mask gives a slice-level AUROC, and MRBrainTumor1, which
has no mask. It writes into OUTPUT (created if missing; inputs are only read):

- ``slice_scores.csv``: one row per scored slice (volume, slice, score, label, tumour);
- ``<volume>_anomaly_map.nii.gz``: the per-pixel anomaly map on the volume's own voxel grid,
  with its affine, to overlay on the input in any NIfTI viewer.

It prints the slice AUROC of MRBrainTumor2 with a bootstrap interval, the same AUROC of the
foreground fraction alone (how much slice position explains), and one score per volume. The
honest, leave-one-patient-out evaluation with baselines is the benchmark harness's
``python -m benchmarks run --suite mri``; this example borrows its list of the folder's volumes
and its bootstrap, so it runs from a clone of the repository, like the harness.

    python examples/brain_mri.py OUTPUT [--data-home shared/data] [--quick] [--overwrite]

About two minutes on 2 CPU cores at the defaults; ``--quick`` (16 px, 1 epoch) checks the wiring
in seconds.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from skanogan import LatentRegularizedGAN
from skanogan.mri import save_map, score_slices, volume_maps, volume_scores, volumes_to_slices

# The harness is not installed with skanogan: it is found at the root of this clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.mri import HEALTHY, TEMPLATES, bootstrap_ci, brain_mri_folder

PATIENTS = {
    "slicer_mrbraintumor2": (
        "tumour/slicer_mrbraintumor2_t1.nii.gz",
        "tumour/slicer_mrbraintumor2_tumour_mask.nii.gz",
    ),
    "slicer_mrbraintumor1": ("tumour/slicer_mrbraintumor1_t1.nii.gz", None),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder for the table and maps")
    parser.add_argument("--data-home", default=None, help="folder holding brain_mri/")
    parser.add_argument("--quick", action="store_true", help="16 px, 1 epoch: a wiring check")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace earlier outputs")
    args = parser.parse_args(argv)
    if args.quick:
        args.image_size, args.epochs = 16, 1
    start = time.perf_counter()

    folder = brain_mri_folder(args.data_home)
    output = args.output.resolve()
    if output == folder.resolve() or folder.resolve() in output.parents:
        parser.error(f"output {output} is inside the input folder {folder}; choose another")
    output.mkdir(parents=True, exist_ok=True)
    csv_path = output / "slice_scores.csv"
    if csv_path.exists() and not args.overwrite:
        parser.error(f"{csv_path} exists; pass --overwrite to replace the outputs")

    healthy = {**HEALTHY, **TEMPLATES}
    train = volumes_to_slices(
        [folder / path for path in healthy.values()],
        image_size=args.image_size,
        volume_ids=list(healthy),
    )
    test = volumes_to_slices(
        [folder / image for image, _ in PATIENTS.values()],
        tumour_masks=[None if mask is None else folder / mask for _, mask in PATIENTS.values()],
        image_size=args.image_size,
        volume_ids=list(PATIENTS),
    )
    print(f"{len(train.images)} healthy training slices, {len(test.images)} patient slices")

    small = {"base_channels": 4, "latent_dim": 4} if args.quick else {}
    detector = LatentRegularizedGAN(
        **{"base_channels": 16, "latent_dim": 32, **small},
        epochs=args.epochs,
        device="cpu",
        random_state=args.seed,
    ).fit(train.images)

    table = score_slices(detector, test)
    _write_csv(csv_path, table, overwrite=args.overwrite)
    for volume_id, volume_map in volume_maps(detector, test).items():
        path = output / f"{volume_id}_anomaly_map.nii.gz"
        save_map(volume_map, test.geometries[volume_id], path, overwrite=args.overwrite)
        print(f"wrote {path}")
    print(f"wrote {csv_path}")

    masked = table["volume"] == "slicer_mrbraintumor2"
    y, scores = table["tumour"][masked], table["score"][masked]
    low, high = bootstrap_ci(y, scores)
    position = test.table["foreground_fraction"][masked]
    print(
        f"slicer_mrbraintumor2: slice AUROC {roc_auc_score(y, scores):.3f} "
        f"[95 % CI {low:.3f}, {high:.3f}] over {masked.sum()} slices ({y.sum()} with tumour); "
        f"foreground fraction alone: {roc_auc_score(y, position):.3f}"
    )
    for volume_id, value in volume_scores(table["score"], table["volume"]).items():
        print(f"volume score {volume_id}: {value:.4g}")
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


def _write_csv(path: Path, table: dict[str, np.ndarray], *, overwrite: bool) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table)
    writer.writerows(zip(*(column.tolist() for column in table.values()), strict=True))
    with path.open("w" if overwrite else "x") as out:
        out.write(text.getvalue())


if __name__ == "__main__":
    sys.exit(main())
