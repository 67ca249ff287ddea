"""``skanogan fit``, ``score``, ``mri fit`` and ``mri score`` on tiny files written to tmp_path.

The main flows run the command line as a subprocess (one of them checks a refusal's stderr as a
user sees it); to save start-up time, reruns and the other user errors call ``main()`` in the
process, where an uncaught exception would fail the test as a traceback would.
"""

import csv
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from skanogan import LatentRegularizedGAN
from skanogan.cli import main

Image = pytest.importorskip("PIL.Image")
nib = pytest.importorskip("nibabel")

TINY = ["--epochs", "1", "--latent-dim", "4", "--base-channels", "4", "--quiet"]
# smooth_head() is about 60 mm wide: a 64 mm window at 16 px keeps the MRI runs tiny.
MRI_TINY = ["--image-size", "16", "--field-of-view", "64"]


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "skanogan.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _one_line_error(result, expected):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("skanogan: error: ") and expected in result.stderr


def _write_pngs(folder, n, size=(12, 12), seed=0):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    images = (rng.random((n, size[1], size[0])) * 255).astype(np.uint8)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"img{i}.png")
    return images[:, None]  # (n, 1, H, W), as the CLI reads them


def write_nifti(path, data_ras, zooms=(1.5, 1.25, 2.0)):
    """A float32 volume stored in LPS order (first two axes flipped)."""
    affine = np.diag([-zooms[0], -zooms[1], zooms[2], 1.0])
    affine[:3, 3] = (30.0, 30.0, -20.0)
    nib.save(nib.Nifti1Image(np.asarray(data_ras)[::-1, ::-1].astype(np.float32), affine), path)
    return path


def smooth_head(shape=(40, 48, 20), zooms=(1.5, 1.25, 2.0), phase=0.0):
    """An ellipsoid "head" whose intensity varies smoothly, so resampling keeps it."""
    x, y, z = (np.arange(n) * d for n, d in zip(shape, zooms, strict=True))
    x, y, z = np.meshgrid(x - x.mean(), y - y.mean(), z - z.mean(), indexing="ij")
    inside = (x / 25) ** 2 + (y / 27) ** 2 + (z / 16) ** 2 <= 1
    return np.where(inside, 400 + 150 * np.sin(x / 12 + phase) + 100 * np.cos(y / 14), 0.0)


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    """A folder of six 12×12 grayscale PNGs and a model fitted on it with ``skanogan fit``."""
    folder = tmp_path_factory.mktemp("images")
    images = _write_pngs(folder / "train", 6)
    model = folder / "model.safetensors"
    result = _run("fit", folder / "train", "-o", model, *TINY)
    assert result.returncode == 0, result.stderr
    assert "trained on 6 images of shape (1, 12, 12)" in result.stdout
    assert str(model) in result.stdout
    return folder, images, model


@pytest.mark.slow
def test_fit_and_score_an_image_folder_with_maps_and_overwrite(image_model):
    """score writes the CSV and one PNG map per image, refuses existing outputs, overwrites."""
    folder, images, model = image_model
    assert LatentRegularizedGAN.read_metadata(model) == {"input": "images"}
    detector = LatentRegularizedGAN.load(model)
    out, maps = folder / "scores.csv", folder / "maps"
    result = _run("score", model, folder / "train", "-o", out, "--maps", maps)
    assert result.returncode == 0, result.stderr
    rows = _read_csv(out)
    assert list(rows[0]) == ["source", "index", "score", "label"] and len(rows) == 6
    assert [row["source"] for row in rows] == [
        str(folder / "train" / f"img{i}.png") for i in range(6)
    ]
    assert {row["index"] for row in rows} == {"0"}
    scores = np.array([float(row["score"]) for row in rows])
    np.testing.assert_allclose(scores, detector.decision_function(images), rtol=1e-5)
    assert [int(row["label"]) for row in rows] == detector.predict(images).tolist()
    written = sorted(maps.glob("*.png"))
    assert [p.name for p in written] == [f"img{i}_map.png" for i in range(6)]
    assert np.asarray(Image.open(written[0])).shape == (12, 12)

    # Every output is checked before any work: a map left there stops the run, CSV unwritten.
    out.unlink()
    again = _run("score", model, folder / "train", "-o", out, "--maps", maps)
    _one_line_error(again, f"{written[0]} exists; pass --overwrite")
    assert not out.exists()
    out.write_text("mine")
    assert (
        main(
            [
                "score",
                str(model),
                str(folder / "train"),
                "-o",
                str(out),
                "--maps",
                str(maps),
                "--overwrite",
            ]
        )
        == 0
    )
    assert len(_read_csv(out)) == 6


@pytest.mark.slow
def test_fit_on_npy_and_score_npz_with_key(tmp_path):
    """Arrays: RGB samples from .npy; an .npz array chosen with --key; index within the file."""
    rng = np.random.default_rng(1)
    train, test = rng.random((10, 3, 12, 12)), rng.random((4, 3, 12, 12)).astype(np.float32)
    np.save(tmp_path / "train.npy", train)
    np.savez(tmp_path / "test.npz", test=test, other=np.zeros(3))
    model = tmp_path / "m.safetensors"
    fitted = _run("fit", tmp_path / "train.npy", "-o", model, *TINY)
    assert fitted.returncode == 0, fitted.stderr
    out = tmp_path / "s.csv"
    result = _run("score", model, tmp_path / "test.npz", "--key", "test", "-o", out)
    assert result.returncode == 0, result.stderr
    rows = _read_csv(out)
    assert [row["index"] for row in rows] == ["0", "1", "2", "3"]
    assert {row["source"] for row in rows} == {str(tmp_path / "test.npz")}
    expected = LatentRegularizedGAN.load(model).decision_function(test)
    np.testing.assert_allclose([float(row["score"]) for row in rows], expected, rtol=1e-5)


def test_npy_inputs_stay_memory_mapped(tmp_path, tiny):
    """One .npy file reaches the detector as a memmap, several as one array-like over their
    memmaps (read a batch at a time), never a copy; each row keeps its file and index."""
    from skanogan.cli._inputs import read_inputs

    data = np.arange(5 * 64, dtype=np.uint8).reshape(5, 1, 8, 8)
    np.save(tmp_path / "a.npy", data)
    np.save(tmp_path / "b.npy", data[:2] / 255)
    single = read_inputs([tmp_path / "a.npy"])
    assert isinstance(single.X, np.memmap) and not single.X.flags.writeable
    np.testing.assert_array_equal(single.X, data)
    both = read_inputs([tmp_path / "a.npy", tmp_path / "b.npy"])
    assert all(isinstance(a, np.memmap) for a in both.X.arrays)
    whole = np.concatenate([data, data[:2] / 255])
    assert both.X.shape == whole.shape and both.X.dtype == whole.dtype
    for rows in (slice(0, 7), slice(3, 6), slice(5, 7), slice(6, 99), slice(7, 7)):
        np.testing.assert_array_equal(both.X[rows], whole[rows])
    assert list(both.source) == [str(tmp_path / "a.npy")] * 5 + [str(tmp_path / "b.npy")] * 2
    assert list(both.index) == [0, 1, 2, 3, 4, 0, 1]
    detector = tiny(batch_size=2).fit(both.X)
    np.testing.assert_array_equal(
        detector.decision_function(both.X), detector.decision_function(whole)
    )


@pytest.mark.slow
def test_mri_fit_and_score_with_masks_maps_and_montages(tmp_path):
    """mri fit on a folder; mri score writes the MRI CSV, NIfTI maps on the input grid, PNGs."""
    from skanogan.mri import volumes_to_slices

    healthy = tmp_path / "healthy"
    healthy.mkdir()
    for phase in (0.0, 0.5):
        write_nifti(healthy / f"h{phase:g}.nii.gz", smooth_head(phase=phase))
    head = smooth_head(phase=1.0)
    patient = write_nifti(tmp_path / "patient.nii.gz", head)
    tumour = np.zeros(head.shape)
    tumour[15:25, 18:28, 8:12] = 1
    mask = write_nifti(tmp_path / "tumour.nii.gz", tumour)
    model = tmp_path / "mri.safetensors"
    fitted = _run("mri", "fit", healthy, "-o", model, *MRI_TINY, *TINY)
    assert fitted.returncode == 0, fitted.stderr
    metadata = LatentRegularizedGAN.read_metadata(model)
    assert metadata["input"] == "nifti" and metadata["nifti"]["image_size"] == 16
    assert metadata["nifti"]["outside_mask"] == "keep"  # "auto" without brain masks

    out, maps, pngs = tmp_path / "s.csv", tmp_path / "maps", tmp_path / "png"
    montages = importlib.util.find_spec("matplotlib") is not None
    args = ["-o", out, "--maps", maps, "--mask", mask, *(["--png", pngs] if montages else [])]
    result = _run("mri", "score", model, patient, *args)
    assert result.returncode == 0, result.stderr
    rows = _read_csv(out)
    assert list(rows[0]) == ["source", "index", "score", "label", "volume", "slice", "tumour"]
    slices = volumes_to_slices([patient], tumour_masks=[mask], **metadata["nifti"])
    assert len(rows) == len(slices.images) > 0
    assert [int(row["slice"]) for row in rows] == slices.table["slice_index"].tolist()
    assert [int(row["tumour"]) for row in rows] == slices.table["label"].tolist()
    assert {row["volume"] for row in rows} == {"patient"}
    expected = LatentRegularizedGAN.load(model).decision_function(slices.images)
    np.testing.assert_allclose([float(row["score"]) for row in rows], expected, rtol=1e-5)
    written, source = nib.load(maps / "patient_map.nii.gz"), nib.load(patient)
    assert written.shape == source.shape
    np.testing.assert_allclose(written.affine, source.affine)
    if montages:
        assert (pngs / "patient_montage.png").read_bytes().startswith(b"\x89PNG")

    # The generic score reads NIfTI as the model says; no mask: the tumour column is empty.
    assert main(["score", str(model), str(patient), "-o", str(tmp_path / "plain.csv")]) == 0
    rows = _read_csv(tmp_path / "plain.csv")
    assert len(rows) == len(slices.images) and {row["tumour"] for row in rows} == {""}


def test_mri_skull_stripped_round_trip(tmp_path, capsys):
    """mri fit --brain-mask strips the skull by default (--outside-mask auto): the model
    remembers both, mri score strips the patient's slices the same way, and scoring without
    masks is refused."""
    from skanogan.mri import volumes_to_slices

    def brain(head):
        # A smaller ellipsoid inside the head: what lies between them is "skull".
        x, y, z = np.indices(head.shape) - (np.asarray(head.shape)[:, None, None, None] - 1) / 2
        return ((x / 12) ** 2 + (y / 15) ** 2 + (z / 7) ** 2 <= 1).astype(np.float32)

    volumes, masks = [], []
    for phase in (0.0, 0.5, 1.0):
        head = smooth_head(phase=phase)
        volumes.append(write_nifti(tmp_path / f"h{phase:g}.nii.gz", head))
        masks.append(write_nifti(tmp_path / f"h{phase:g}_brain.nii.gz", brain(head)))
    model = tmp_path / "stripped.safetensors"
    fitted = main(["mri", "fit", *map(str, volumes[:2]), "--brain-mask", *map(str, masks[:2]),
                   "-o", str(model), *MRI_TINY, *TINY])  # fmt: skip
    assert fitted == 0
    metadata = LatentRegularizedGAN.read_metadata(model)
    assert metadata["nifti"]["outside_mask"] == "background" and metadata["brain_masks"]

    out = tmp_path / "s.csv"
    scored = ["mri", "score", str(model), str(volumes[2]), "-o", str(out), "--quiet"]
    assert main([*scored, "--brain-mask", str(masks[2])]) == 0
    slices = volumes_to_slices([volumes[2]], brain_masks=[masks[2]], **metadata["nifti"])
    unstripped = volumes_to_slices([volumes[2]], **{**metadata["nifti"], "outside_mask": "keep"})
    assert not np.array_equal(slices.images, unstripped.images)  # the stripping did something
    expected = LatentRegularizedGAN.load(model).decision_function(slices.images)
    scores = [float(row["score"]) for row in _read_csv(out)]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert main([*scored, "--overwrite"]) == 2
    assert "was fitted with brain masks; score with --brain-mask" in capsys.readouterr().err


@pytest.mark.parametrize(
    "case",
    [
        "missing model",
        "corrupt model",
        "unreadable image",
        "mixed sizes",
        "wrong shape",
        "empty folder",
        "unknown extension",
        "wrong kind",
        "existing model",
        "npz without key",
    ],
)
def test_user_errors_are_one_line(case, image_model, tmp_path, capsys):
    """Each user mistake gives exit code 2 and one line naming the problem, writing nothing."""
    _, _, model = image_model
    good = tmp_path / "good"
    _write_pngs(good, 2)
    out = tmp_path / "out.csv"
    if case == "missing model":
        argv, expected = ["score", str(tmp_path / "none.safetensors"), str(good)], "no model file"
    elif case == "corrupt model":
        (tmp_path / "bad.safetensors").write_bytes(b"not a model")
        argv, expected = ["score", str(tmp_path / "bad.safetensors"), str(good)], "bad.safetensors"
    elif case == "unreadable image":
        (good / "img1.png").write_bytes(b"not a png")
        argv, expected = ["score", str(model), str(good)], f"cannot read {good / 'img1.png'}"
    elif case == "mixed sizes":
        Image.fromarray(np.zeros((10, 14), np.uint8)).save(good / "odd.png")
        argv = ["fit", str(good), *TINY]
        expected = f"{good / 'odd.png'} holds a 14x10 grayscale image but"
    elif case == "wrong shape":
        _write_pngs(tmp_path / "small", 2, size=(10, 10))
        argv, expected = ["score", str(model), str(tmp_path / "small")], "(1, 10, 10)"
    elif case == "empty folder":
        (tmp_path / "empty").mkdir()
        argv, expected = ["fit", str(tmp_path / "empty")], "holds no PNG/JPEG images"
    elif case == "unknown extension":
        (tmp_path / "notes.txt").write_text("hello")
        argv, expected = ["fit", str(tmp_path / "notes.txt")], "unknown extension '.txt'"
    elif case == "wrong kind":
        np.save(tmp_path / "x.npy", np.zeros((2, 1, 12, 12)))
        argv, expected = ["score", str(model), str(tmp_path / "x.npy")], "was fitted on PNG/JPEG"
    elif case == "existing model":
        argv, expected = ["fit", str(good), "-o", str(model)], f"{model} exists; pass --overwrite"
    else:
        np.savez(tmp_path / "two.npz", a=np.zeros((2, 4)), b=np.zeros((2, 4)))
        argv, expected = ["fit", str(tmp_path / "two.npz")], "choose one with --key"
    if "-o" not in argv:
        argv += ["-o", str(out if argv[0] == "score" else tmp_path / "m.safetensors")]
    before = model.read_bytes()
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("skanogan: error: ") and error.count("\n") == 1, error
    assert expected in error
    assert not out.exists() and not (tmp_path / "m.safetensors").exists()
    assert model.read_bytes() == before
