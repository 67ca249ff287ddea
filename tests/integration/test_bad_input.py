"""Bad input a user will produce, at every public entry point: clear errors that name it.

Choice recorded here: boolean *arrays* are valid input, read as 0/1 (scikit-learn's
convention, e.g. binary masks); booleans where a count or number is expected (``epochs=True``)
are refused.
"""

import gzip
import io
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skanogan import LatentRegularizedGAN, datasets, plotting
from skanogan.exceptions import ImageShapeWarning
from skanogan.model_selection import OneClassKFold, one_class_split

nib = pytest.importorskip("nibabel")
pytest.importorskip("matplotlib")
from skanogan.mri import load_volume, volumes_to_slices  # noqa: E402

TINY = dict(
    latent_dim=4, base_channels=4, epochs=1, batch_size=16, device="cpu", amp=False, random_state=0
)
RNG = np.random.default_rng(0)
TAB = RNG.random((24, 6))
IMG = RNG.random((24, 8, 8))
Y = np.array([0, 0, 1, 1])
PROBE = np.full((3, 6), 0.5)


def tiny(**params):
    """A detector small enough to fit in a fraction of a second."""
    return LatentRegularizedGAN(**{**TINY, **params})


def fit_tab(X=None, **params):
    """Fit a tiny detector on tabular data ``X`` (default: a valid table)."""
    return tiny(**params).fit(TAB if X is None else X)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """Fitted tabular and image models, a saved model file and a folder for scratch files."""
    tmp = tmp_path_factory.mktemp("bad_input")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab, img = fit_tab(), tiny().fit(IMG)
    model = tab.save(tmp / "model.safetensors")
    (tmp / "notes.txt").write_text("not a model\n")
    (tmp / "fake.nii").write_bytes(b"this is not a NIfTI file")
    (tmp / "folder").mkdir()
    nib.save(nib.Nifti1Image(np.ones((6, 6), np.float32), np.eye(4)), tmp / "flat.nii")
    nib.save(nib.Nifti1Image(np.ones((6, 6, 4), np.float32), np.eye(4)), tmp / "ok.nii.gz")
    (tmp / "bad_home" / "mnist").mkdir(parents=True)
    (tmp / "bad_home" / "mnist" / "mnist.npz").write_bytes(b"PK\x03\x04 truncated zip")
    (tmp / "bad_home" / "elpv").mkdir()
    (tmp / "bad_home" / "elpv" / "elpv_150.npz").write_bytes(b"\x93NUMPY garbage")
    return SimpleNamespace(tab=tab, img=img, tmp=tmp, model=model)


def _safetensors_with(tmp, name, metadata):
    """A valid safetensors file whose metadata entry ``skanogan`` is ``metadata``."""
    import torch
    from safetensors.torch import save_file

    path = tmp / name
    save_file({"t0": torch.zeros(1)}, str(path), metadata={"skanogan": metadata})
    return path


V, T = ValueError, TypeError
FNF, FEE = FileNotFoundError, FileExistsError
NOT_REAL = r"X holds dtype .*could not convert it to real numbers"

# (id, call(ctx), expected exception, regex the message must match)
BAD_INPUT = [
    # --- non-finite and huge values
    ("fit-nan", lambda c: fit_tab(np.full((4, 3), np.nan)), V, r"X contains NaN"),
    ("fit-inf", lambda c: fit_tab(np.full((4, 3), np.inf)), V, r"X contains infinity"),
    ("fit-neginf", lambda c: fit_tab(np.full((4, 3), -np.inf)), V, r"X contains infinity"),
    ("fit-1e300", lambda c: tiny().fit(np.full((4, 8, 8), 1e300)), V, r"X contains inf.*large"),
    ("fit-none-in-object", lambda c: fit_tab(np.array([[1, None]] * 4)), V, r"X contains NaN"),
    (
        "fit-image-range-beyond-float32",
        lambda c: tiny().fit(np.stack([np.full((8, 8), 3e38), np.full((8, 8), -3e38)])),
        V,
        r"X spans .* too wide",
    ),
    ("score-nan", lambda c: c.tab.decision_function(np.full((2, 6), np.nan)), V, r"X contains NaN"),
    ("score-1e300", lambda c: c.img.predict(np.full((2, 8, 8), 1e300)), V, r"X contains infinity"),
    ("score-tab-1e300", lambda c: c.tab.predict(np.full((2, 6), 1e300)), V, r"overflow"),
    ("encode-inf", lambda c: c.img.encode(np.full((2, 8, 8), np.inf)), V, r"X contains infinity"),
    # --- empty and too few samples
    ("fit-empty-list", lambda c: fit_tab([]), V, r"Expected 2D array X.*got a 1-D array"),
    ("fit-0-samples", lambda c: fit_tab(np.empty((0, 3))), V, r"X.*0 sample"),
    ("fit-0-features", lambda c: fit_tab(np.empty((4, 0))), V, r"X.*0 feature"),
    ("fit-0-images", lambda c: tiny().fit(np.empty((0, 8, 8))), V, r"X.*0 sample"),
    ("fit-1-sample", lambda c: fit_tab(np.ones((1, 6))), V, r"at least 2 samples.*got 1"),
    ("fit-1px-images", lambda c: tiny().fit(np.ones((4, 1, 1))), V, r"image_shape .* 2 pixels"),
    ("score-0-samples", lambda c: c.tab.decision_function(np.empty((0, 6))), V, r"X.*0 sample"),
    # --- wrong ndim
    ("fit-1d", lambda c: fit_tab(np.ones(6)), V, r"Expected 2D array X.*1-D.*Reshape"),
    ("fit-0d", lambda c: fit_tab(np.float64(3.0)), V, r"Expected 2D array X.*0-D"),
    ("fit-none", lambda c: tiny().fit(None), V, r"Expected 2D array X.*got None"),
    ("fit-str", lambda c: fit_tab("abc"), V, r"Expected 2D array X.*got 'abc'"),
    ("fit-dict", lambda c: fit_tab({"a": 1}), V, r"Expected 2D array X.*got \{"),
    ("fit-5d", lambda c: fit_tab(np.ones((2, 1, 1, 4, 4))), V, r"Expected 2D array X.*5-D"),
    ("fit-ragged", lambda c: fit_tab([[1, 2], [3]]), V, r"X could not be turned into an array"),
    ("fit-channels-last", lambda c: fit_tab(np.ones((4, 8, 8, 3))), V, r"X .* channels-last"),
    ("score-1d", lambda c: c.tab.decision_function(np.ones(6)), V, r"Expected 2D array X.*Reshape"),
    ("reconstruct-5d", lambda c: c.img.reconstruct(np.ones((1, 1, 1, 8, 8))), V, r"5-D"),
    # --- wrong feature count or image shape at scoring
    ("score-features", lambda c: c.tab.decision_function(np.ones((2, 5))), V, r"X has 5 features"),
    ("predict-features", lambda c: c.tab.predict(np.ones((2, 7))), V, r"X has 7 features"),
    ("proba-features", lambda c: c.tab.predict_proba(np.ones((2, 5))), V, r"X has 5 features"),
    ("encode-features", lambda c: c.tab.encode(np.ones((2, 5))), V, r"X has 5 features"),
    ("reconstruct-feat", lambda c: c.tab.reconstruct(np.ones((2, 5))), V, r"X has 5 features"),
    ("map-features", lambda c: c.tab.anomaly_map(np.ones((2, 5))), V, r"X has 5 features"),
    ("score-image-shape", lambda c: c.img.decision_function(np.ones((2, 9, 9))), V, r"X holds"),
    ("map-image-shape", lambda c: c.img.anomaly_map(np.ones((2, 3, 8, 8))), V, r"X holds images"),
    ("image-model-flat", lambda c: c.img.predict(np.ones((2, 65))), V, r"X has 65 features"),
    ("tab-model-images", lambda c: c.tab.encode(np.ones((2, 2, 3))), V, r"fitted on tabular"),
    # --- string, complex, date and other non-numeric dtypes
    ("fit-strings", lambda c: fit_tab(np.array([["a", "b"]] * 4)), V, NOT_REAL),
    ("fit-numeric-str", lambda c: fit_tab(np.array([["1", "2"]] * 4)), V, NOT_REAL),
    ("fit-bytes", lambda c: fit_tab(np.array([[b"1", b"2"]] * 4)), V, NOT_REAL),
    ("fit-complex", lambda c: fit_tab(np.ones((4, 3)) + 1j), V, r"Complex data.*X holds dtype"),
    ("fit-datetime", lambda c: fit_tab(np.zeros((4, 3), "datetime64[D]")), V, r"X holds dtype"),
    ("fit-str-object", lambda c: fit_tab(np.array([["a", 1]] * 4, object)), V, r"X.*string"),
    ("fit-list-of-str", lambda c: fit_tab([["a", "b"]] * 4), V, NOT_REAL),
    ("score-strings", lambda c: c.tab.decision_function(np.full((2, 6), "x")), V, r"X holds dtype"),
    # --- booleans where a number is expected (boolean arrays are valid: see VALID_UNUSUAL)
    ("epochs-true", lambda c: fit_tab(epochs=True), V, r"epochs must be an int.*True"),
    ("latent-dim-false", lambda c: fit_tab(latent_dim=False), V, r"latent_dim must be"),
    ("contamination-true", lambda c: fit_tab(contamination=True), V, r"contamination must"),
    ("image-shape-bools", lambda c: fit_tab(image_shape=(True, 6)), V, r"image_shape must be"),
    ("resume-int", lambda c: fit_tab(resume=1), V, r"resume must be one of True, False"),
    ("shuffle-str", lambda c: OneClassKFold(shuffle="yes"), V, r"shuffle must be True or False"),
    ("n-splits-true", lambda c: OneClassKFold(n_splits=True), V, r"n_splits must be an int"),
    # --- unknown option strings
    ("score-type", lambda c: fit_tab(score_type="bogus"), V, r"score_type must be one of"),
    ("adv-loss", lambda c: fit_tab(adversarial_loss="wgan"), V, r"adversarial_loss must be"),
    ("on-divergence", lambda c: fit_tab(on_divergence="ignore"), V, r"on_divergence must be"),
    ("amp", lambda c: fit_tab(amp="yes"), V, r"amp must be one of"),
    ("device", lambda c: fit_tab(device="tpu"), V, r"device must be .*'tpu'"),
    ("device-int", lambda c: fit_tab(device=3), V, r"device must be"),
    ("proba-method", lambda c: c.tab.predict_proba(PROBE, method="x"), V, r"method must be"),
    ("protocol", lambda c: one_class_split(TAB[:4], Y, 0, protocol="x"), V, r"protocol must be"),
    ("slices-norm", lambda c: volumes_to_slices(["a"], normalization="x"), V, r"normalization"),
    ("hist-bins", lambda c: plotting.plot_score_histogram([1.0, 2.0], bins="x"), V, r"bins"),
    # --- negative, zero or non-integer counts and out-of-range numbers
    ("epochs-0", lambda c: fit_tab(epochs=0), V, r"epochs must be an int in \[1, inf\), got 0"),
    ("epochs-float", lambda c: fit_tab(epochs=1.5), V, r"epochs must be an int.*1\.5"),
    ("epochs-str", lambda c: fit_tab(epochs="10"), T, r"epochs must be an int.*'10'"),
    ("batch-size--1", lambda c: fit_tab(batch_size=-1), V, r"batch_size must be.*-1"),
    ("batch-size-0", lambda c: fit_tab(batch_size=0), V, r"batch_size must be.*0"),
    ("eval-batch-0", lambda c: fit_tab(eval_batch_size=0), V, r"eval_batch_size must be"),
    ("latent-dim-0", lambda c: fit_tab(latent_dim=0), V, r"latent_dim must be.*got 0"),
    ("base-channels-0", lambda c: fit_tab(base_channels=0), V, r"base_channels must be"),
    ("ckpt-every-0", lambda c: fit_tab(checkpoint_every=0), V, r"checkpoint_every must be"),
    ("rank-negative", lambda c: fit_tab(rank=-1), V, r"rank must be"),
    ("rank-too-big", lambda c: fit_tab(rank=4, w_rank=0.05), V, r"rank must be smaller than"),
    ("verbose-5", lambda c: fit_tab(verbose=5), V, r"verbose must be an int in \[0, 2\]"),
    ("lr-0", lambda c: fit_tab(lr=0.0), V, r"lr must be a finite number in \(0, inf\)"),
    ("lr-inf", lambda c: fit_tab(lr=np.inf), V, r"lr must be .*inf"),
    ("lr-nan", lambda c: fit_tab(lr=np.nan), V, r"lr must be .*nan"),
    ("w-adv-negative", lambda c: fit_tab(w_adv=-1.0), V, r"w_adv must be"),
    ("weights-all-0", lambda c: fit_tab(w_irec=0, w_adv=0, w_zrec=0, w_rank=0), V, r"at least"),
    ("contamination-0", lambda c: fit_tab(contamination=0.0), V, r"contamination must be"),
    ("contamination-0.6", lambda c: fit_tab(contamination=0.6), V, r"contamination must be"),
    ("val-fraction-1", lambda c: fit_tab(validation_fraction=1.0), V, r"validation_fraction"),
    ("val-fraction-big", lambda c: fit_tab(validation_fraction=0.99), V, r"validation_fraction"),
    ("random-state--1", lambda c: fit_tab(random_state=-1), V, r"random_state must be"),
    ("random-state-str", lambda c: fit_tab(random_state="s"), T, r"random_state must be"),
    ("image-shape-0", lambda c: fit_tab(image_shape=(0, 6)), V, r"image_shape must be"),
    ("image-shape-1d", lambda c: fit_tab(image_shape=(6,)), V, r"image_shape must be"),
    ("image-shape-wrong", lambda c: fit_tab(image_shape=(2, 4)), V, r"X has 6 features"),
    ("resume-no-dir", lambda c: fit_tab(resume=True), V, r"resume=True needs checkpoint_dir"),
    ("ckpt-dir-int", lambda c: fit_tab(checkpoint_dir=3), V, r"checkpoint_dir must be"),
    ("n-splits-1", lambda c: OneClassKFold(n_splits=1), V, r"n_splits must be an int >= 2"),
    ("n-splits-0", lambda c: OneClassKFold(n_splits=0), V, r"n_splits must be an int >= 2"),
    ("n-splits-float", lambda c: OneClassKFold(n_splits=2.5), V, r"n_splits must be an int"),
    ("kfold-seed", lambda c: OneClassKFold(random_state=0), V, r"random_state has an effect"),
    ("split-size-0", lambda c: one_class_split(TAB[:8], Y.repeat(2), 0, test_size=0), V, "test_"),
    ("split-size-2", lambda c: one_class_split(TAB[:8], Y.repeat(2), 0, test_size=2.0), V, "test"),
    ("image-size-0", lambda c: volumes_to_slices(["a"], image_size=0), V, r"image_size must be"),
    ("spacing--1", lambda c: volumes_to_slices(["a"], spacing=-1.0), V, r"spacing must be"),
    ("recon-n-0", lambda c: plotting.plot_reconstructions(c.img, IMG[:2], n=0), V, r"n must be"),
    ("latent-comp-4", lambda c: plotting.plot_latent_space(c.img, IMG, n_components=4), V, "n_co"),
    ("hist-bins--1", lambda c: plotting.plot_score_histogram([1.0, 2.0], bins=-1), V, r"bins"),
    # --- unfitted models
    ("unfitted-score", lambda c: tiny().decision_function(PROBE), V, r"not fitted"),
    ("unfitted-save", lambda c: tiny().save(c.tmp / "u.safetensors"), V, r"not fitted"),
    ("unfitted-history", lambda c: plotting.plot_training_history(tiny()), V, r"not fitted"),
    # --- model files: save
    ("save-int-path", lambda c: c.tab.save(3), T, r"path must be a str or os.PathLike"),
    ("save-no-folder", lambda c: c.tab.save(c.tmp / "no" / "m.st"), V, r"folder of path .*exist"),
    ("save-to-folder", lambda c: c.tab.save(c.tmp / "folder"), V, r"path .* is a directory"),
    ("save-exists", lambda c: c.tab.save(c.model), FEE, r"model.safetensors exists.*overwrite"),
    # --- model files: load
    ("load-none", lambda c: LatentRegularizedGAN.load(None), T, r"path must be a str"),
    ("load-missing", lambda c: LatentRegularizedGAN.load(c.tmp / "x.st"), FNF, r"no model file"),
    ("load-folder", lambda c: LatentRegularizedGAN.load(c.tmp / "folder"), FNF, r"no model file"),
    ("load-text", lambda c: LatentRegularizedGAN.load(c.tmp / "notes.txt"), V, r"notes.txt is not"),
    (
        "load-no-metadata",
        lambda c: LatentRegularizedGAN.load(_safetensors_with(c.tmp, "a.st", "{}")),
        V,
        r"a.st is not a readable skanogan model file",
    ),
    (
        "load-json-list",
        lambda c: LatentRegularizedGAN.load(_safetensors_with(c.tmp, "b.st", "[1, 2]")),
        V,
        r"b.st is not a readable skanogan model file",
    ),
    (
        "load-bad-json",
        lambda c: LatentRegularizedGAN.load(_safetensors_with(c.tmp, "c.st", "{oops")),
        V,
        r"c.st is not a readable skanogan model file",
    ),
    (
        "load-no-version",
        lambda c: LatentRegularizedGAN.load(
            _safetensors_with(c.tmp, "d.st", '{"format": "skanogan-model"}')
        ),
        V,
        r"d.st is not a readable skanogan model file",
    ),
    (
        "load-bad-state",
        lambda c: LatentRegularizedGAN.load(
            _safetensors_with(
                c.tmp,
                "e.st",
                '{"format": "skanogan-model", "format_version": 1, "class": '
                '"LatentRegularizedGAN", "state": {"__dataclass__": "PixelScaler"}}',
            )
        ),
        V,
        r"e.st is a corrupt skanogan model file",
    ),
    # --- model selection
    ("split-lengths", lambda c: one_class_split(TAB[:5], Y, 0), V, r"X and y must have the same"),
    ("split-y-2d", lambda c: one_class_split(TAB[:4], Y[:, None], 0), V, r"y must be 1-D"),
    ("split-class", lambda c: one_class_split(TAB[:4], Y, 7), V, r"one_class must be a label"),
    ("split-empty", lambda c: one_class_split(np.empty((0, 2)), [], 0), V, r"one_class must be"),
    ("split-X-test", lambda c: one_class_split(TAB[:4], Y, 0, X_test=TAB), V, r"X_test and y_"),
    ("split-scalar-X", lambda c: one_class_split(5, Y, 0), V, r"X must be an array-like"),
    (
        "split-test-shape",
        lambda c: one_class_split(TAB[:4], Y, 0, X_test=np.ones((4, 5)), y_test=Y),
        V,
        r"X_test must have the same sample shape",
    ),
    ("kfold-no-y", lambda c: next(OneClassKFold(2).split(TAB[:4])), V, r"y is required"),
    ("kfold-y-3", lambda c: next(OneClassKFold(2).split(TAB[:4], [0, 1, 2, 1])), V, r"y must be b"),
    ("kfold-y-str", lambda c: next(OneClassKFold(2).split(TAB[:4], list("abab"))), V, r"y must"),
    ("kfold-y-nan", lambda c: next(OneClassKFold(2).split(TAB[:2], [0, np.nan])), V, r"y must"),
    ("kfold-lengths", lambda c: next(OneClassKFold(2).split(TAB[:5], Y)), V, r"X and y must"),
    ("kfold-few", lambda c: next(OneClassKFold(3).split(TAB[:4], Y)), V, r"needs at least 3"),
    ("kfold-empty", lambda c: next(OneClassKFold(2).split(np.empty((0, 2)), [])), V, r"at least 2"),
    # --- plotting
    ("roc-lengths", lambda c: plotting.plot_roc(Y, [0.1, 0.2, 0.3]), V, r"scores has 3 entries"),
    ("roc-dict-length", lambda c: plotting.plot_roc(Y, {"a": [1.0]}), V, r"scores\['a'\] has 1"),
    ("roc-one-class", lambda c: plotting.plot_roc([0, 0], [0.1, 0.2]), V, r"y_true must hold b"),
    ("roc-labels", lambda c: plotting.plot_roc([0, 2], [0.1, 0.2]), V, r"y_true must hold 0"),
    ("roc-scores-2d", lambda c: plotting.plot_roc(Y, np.ones((4, 2))), V, r"scores must be 1-D"),
    ("roc-nan", lambda c: plotting.plot_roc(Y, [0.1, np.nan, 0.3, 0.4]), V, r"scores must be fin"),
    ("roc-str", lambda c: plotting.plot_roc(Y, list("abcd")), V, r"scores must hold numbers"),
    ("roc-empty-dict", lambda c: plotting.plot_roc(Y, {}), V, r"scores is an empty dict"),
    ("roc-label", lambda c: plotting.plot_roc(Y, {"a": Y}, label="x"), T, r"label names a single"),
    ("pr-lengths", lambda c: plotting.plot_precision_recall(Y, [0.1]), V, r"scores has 1 entries"),
    ("pr-inf", lambda c: plotting.plot_precision_recall(Y, [np.inf] * 4), V, r"scores must be fi"),
    ("hist-lengths", lambda c: plotting.plot_score_histogram([0.1], Y), V, r"y_true has 4 entri"),
    ("hist-nan", lambda c: plotting.plot_score_histogram([np.nan, 1.0]), V, r"scores must be fin"),
    ("history-empty", lambda c: plotting.plot_training_history([]), V, r"holds no epochs"),
    ("history-keys", lambda c: plotting.plot_training_history(c.tab, keys=["x"]), V, r"keys \["),
    ("latent-y-length", lambda c: plotting.plot_latent_space(c.img, IMG, Y), V, r"y has 4 entr"),
    ("recon-tabular", lambda c: plotting.plot_reconstructions(c.tab, TAB), V, r"image"),
    ("recon-shape", lambda c: plotting.plot_reconstructions(c.img, TAB), V, r"X has 6 features"),
    # --- MRI files
    ("volume-int", lambda c: load_volume(3), T, r"path must be a str or os.PathLike"),
    ("volume-missing", lambda c: load_volume(c.tmp / "no.nii"), V, r"path .*no.nii does not"),
    ("volume-folder", lambda c: load_volume(c.tmp / "folder"), V, r"path .*folder is a folder"),
    ("volume-text", lambda c: load_volume(c.tmp / "notes.txt"), V, r"notes.txt is not a readable"),
    ("volume-fake-nii", lambda c: load_volume(c.tmp / "fake.nii"), V, r"fake.nii is not a readab"),
    ("volume-2d", lambda c: load_volume(c.tmp / "flat.nii"), V, r"flat.nii has shape .*3-D"),
    ("slices-empty", lambda c: volumes_to_slices([]), V, r"volumes is empty"),
    ("slices-str", lambda c: volumes_to_slices(str(c.tmp / "ok.nii.gz")), T, r"volumes must be a"),
    ("slices-missing", lambda c: volumes_to_slices([c.tmp / "no.nii"]), V, r"no.nii does not ex"),
    ("slices-text", lambda c: volumes_to_slices([c.tmp / "notes.txt"]), V, r"notes.txt is not"),
    (
        "slices-masks-length",
        lambda c: volumes_to_slices([c.tmp / "ok.nii.gz"], tumour_masks=[None, None]),
        V,
        r"tumour_masks has 2 entries for 1 volumes",
    ),
    (
        "slices-ids",
        lambda c: volumes_to_slices([c.tmp / "ok.nii.gz"], volume_ids=["a", "b"]),
        V,
        r"volume_ids must hold one str per volume",
    ),
    # --- data set loaders with a bad data_home
    ("mnist-int-home", lambda c: datasets.load_mnist(3), T, r"data_home must be a str"),
    ("mnist-missing", lambda c: datasets.load_mnist(c.tmp / "nowhere"), FNF, r"MNIST was not f"),
    ("mnist-file-home", lambda c: datasets.load_mnist(c.tmp / "notes.txt"), FNF, r"MNIST was not"),
    ("mnist-corrupt", lambda c: datasets.load_mnist(c.tmp / "bad_home"), V, r"mnist.npz is not"),
    ("fashion-missing", lambda c: datasets.load_fashion_mnist(c.tmp), FNF, r"Fashion-MNIST was"),
    ("cifar-missing", lambda c: datasets.load_cifar10(c.tmp / "nowhere"), FNF, r"CIFAR-10 was"),
    ("cifar-list-home", lambda c: datasets.load_cifar10(["a"]), T, r"data_home must be a str"),
    ("elpv-missing", lambda c: datasets.load_elpv(c.tmp / "nowhere"), FNF, r"ELPV was not found"),
    ("elpv-corrupt", lambda c: datasets.load_elpv(c.tmp / "bad_home"), V, r"elpv_150.npz is not"),
]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [pytest.param(call, error, match, id=name) for name, call, error, match in BAD_INPUT],
)
def test_bad_input_raises_a_clear_error(ctx, call, error, match):
    """Each bad input raises the documented exception type with a message naming it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match) as info:
            call(ctx)
    assert type(info.value).__module__.split(".")[0] in ("builtins", "sklearn", "skanogan")


def _memmap(tmp, X):
    """``X`` as a read-only np.memmap backed by a file in ``tmp``."""
    path = tmp / f"memmap-{X.dtype}-{X.shape}.dat"
    writer = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _read_only(X):
    """A read-only copy of ``X``."""
    X = X.copy()
    X.flags.writeable = False
    return X


def _dataframe(X):
    """``X`` as a pandas DataFrame with string column names."""
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])


# (id, make(tmp) -> X): valid but unusual input that must fit and score like any other
VALID_UNUSUAL = [
    ("read-only", lambda tmp: _read_only(TAB)),
    ("reversed-columns", lambda tmp: TAB[:, ::-1]),
    ("strided-rows", lambda tmp: np.repeat(TAB, 2, axis=0)[::2]),
    ("fortran-order", lambda tmp: np.asfortranarray(TAB)),
    ("memmap", lambda tmp: _memmap(tmp, TAB)),
    ("list-of-lists", lambda tmp: TAB.tolist()),
    ("object-numbers", lambda tmp: TAB.astype(object)),
    ("dataframe", lambda tmp: _dataframe(TAB)),
    ("float16", lambda tmp: TAB.astype(np.float16)),
    ("uint16", lambda tmp: (TAB * 60000).astype(np.uint16)),
    ("bool-as-0-1", lambda tmp: TAB > 0.5),
    ("int-images", lambda tmp: (IMG * 255).astype(np.int64)),
    ("uint8-images-strided", lambda tmp: (IMG * 255).astype(np.uint8)[:, ::-1, ::-1]),
]


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in VALID_UNUSUAL])
def test_valid_unusual_input_fits_and_scores(tmp_path, make):
    """Valid but unusual array-likes fit and give finite scores without a copy of the caller's."""
    X = make(tmp_path)
    detector = tiny().fit(X)
    scores = detector.decision_function(X)
    assert scores.shape == (len(X),)
    assert np.isfinite(scores).all()


SHAPES = st.one_of(
    st.tuples(st.integers(0, 5), st.integers(0, 4)),
    st.tuples(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_finite_arrays_fit_or_raise_clearly(data):
    """Random finite float arrays of small shapes fit and score, or raise ValueError/TypeError."""
    shape = data.draw(SHAPES, label="shape")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    X = data.draw(arrays(dtype, shape, elements=st.floats(allow_nan=False, width=32)), label="X")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImageShapeWarning)
            detector = tiny().fit(X)
    except (ValueError, TypeError):
        return
    scores = detector.decision_function(X)
    assert scores.shape == (shape[0],)


@pytest.fixture(scope="module")
def valid_files(ctx):
    """Valid bytes of every file format a reader accepts, to truncate."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, (2, 28, 28), dtype=np.uint8)
    np.savez(buffer, x_train=images, y_train=[0, 1], x_test=images, y_test=[0, 1])
    nifti = nib.Nifti1Image(np.ones((4, 4, 3), np.float32), np.eye(4)).to_bytes()
    return {
        "model": Path(ctx.model).read_bytes(),
        "nii": nifti,
        "nii.gz": gzip.compress(nifti),
        "npz": buffer.getvalue(),
    }


def _read(kind, folder, payload):
    """Write ``payload`` where the reader of ``kind`` looks and read it; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "model":
        path = folder / "m.safetensors"
        path.write_bytes(payload)
        LatentRegularizedGAN.load(path)
    elif kind in ("nii", "nii.gz"):
        path = folder / f"v.{kind}"
        path.write_bytes(payload)
        load_volume(path)
    elif kind == "npz":
        path = folder / "mnist" / "mnist.npz"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(payload)
        datasets.load_mnist(folder)
    elif kind == "idx":
        path = folder / "mnist" / "train-images-idx3-ubyte.gz"
        path.parent.mkdir(exist_ok=True)
        for stem in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            (path.parent / stem).write_bytes(payload)
        path.write_bytes(payload)
        datasets.load_mnist(folder)
    elif kind in ("png", "jpg", "npy"):
        # The command line's readers (skanogan fit / score).
        from skanogan.cli._inputs import read_inputs

        path = folder / f"x.{kind}"
        path.write_bytes(payload)
        read_inputs([path])
    else:
        path = folder / "cifar10" / "cifar-10-batches-py" / "test_batch"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stem in [f"data_batch_{i}" for i in range(1, 6)]:
            (path.parent / stem).write_bytes(payload)
        path.write_bytes(payload)
        datasets.load_cifar10(folder)
    return path


KINDS = ["model", "nii", "nii.gz", "npz", "idx", "cifar", "png", "jpg", "npy"]


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    payload=st.binary(max_size=512),
    gzipped=st.booleans(),
    counter=st.integers(0, 10**9),
)
def test_file_readers_refuse_random_bytes(tmp_path_factory, kind, payload, gzipped, counter):
    """Random bytes (raw or gzipped) in any file a reader opens raise ValueError naming it."""
    folder = tmp_path_factory.mktemp("fuzz")
    payload = gzip.compress(payload) if gzipped else payload
    with pytest.raises(ValueError) as info:
        _read(kind, folder, payload)
    assert folder.name in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["model", "nii", "nii.gz", "npz"]), cut=st.floats(0.0, 0.999))
def test_file_readers_refuse_truncated_files(tmp_path_factory, valid_files, kind, cut):
    """A valid file cut short raises ValueError naming the file."""
    folder = tmp_path_factory.mktemp("truncated")
    payload = valid_files[kind]
    with pytest.raises(ValueError) as info:
        _read(kind, folder, payload[: int(cut * len(payload))])
    assert folder.name in str(info.value)
