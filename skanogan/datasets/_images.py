"""Image data sets as channels-first uint8 arrays: digits, MNIST, Fashion-MNIST, CIFAR-10, ELPV.

``load_*`` reads local files only; ``fetch_*`` downloads the publisher's files when called and
then loads them. Readers cover the layout of the project's data folder (npz files) and the
original distribution formats (IDX files, CIFAR-10 python pickles).
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch

from skanogan.datasets._base import (
    RemoteFile,
    _checked_images,
    _download_all,
    _extract_folder,
    _not_found,
    _read_npz,
    get_data_home,
)

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct

__all__ = [
    "fetch_cifar10",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "load_cifar10",
    "load_digits",
    "load_elpv",
    "load_fashion_mnist",
    "load_mnist",
]

PathLike = str | os.PathLike[str]

# Bunch keys -> (IDX file name without .gz, magic number, shape of one item), and npz keys.
_IDX_FILES = {
    "images_train": ("train-images-idx3-ubyte", 0x0803, (28, 28)),
    "target_train": ("train-labels-idx1-ubyte", 0x0801, ()),
    "images_test": ("t10k-images-idx3-ubyte", 0x0803, (28, 28)),
    "target_test": ("t10k-labels-idx1-ubyte", 0x0801, ()),
}
_NPZ_KEYS = {
    "images_train": "x_train",
    "target_train": "y_train",
    "images_test": "x_test",
    "target_test": "y_test",
}
_CIFAR10_DIR = "cifar-10-batches-py"
_CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR10_TEST = "test_batch"

# ----------------------------------------------------------------------------- remote files
# SHA-256 of the exact published bytes (as TensorFlow Datasets and Keras pin them), in the order
# of _IDX_FILES. The publishers' MD5 (which torchvision pins) are in the comments above each list.
_IDX_GZ = [f"{stem}.gz" for stem, _, _ in _IDX_FILES.values()]
_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # torchvision's mirror
# MD5 f68b3c2dcbeaaa9fbdd348bbdeb94873 d53e105ee54ea40749a09fcbcd1e9432
#     9fb629c4189551a2d022fa330f9573f3 ec29112dd5afa0611ce80d1b7f02629c
_MNIST_SHA256 = [
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
]
_MNIST_REMOTE = tuple(
    RemoteFile(name, _MNIST_URL + name, f"sha256:{sha256}")
    for name, sha256 in zip(_IDX_GZ, _MNIST_SHA256, strict=True)
)
# Zalando's repository; its S3 website endpoint (torchvision's source) serves plain HTTP only.
_FASHION_MNIST_URL = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)
# MD5 8d4fb7e6c68d591d4c3dfef9ec88bf0d 25c81989df183df01b3e8a0aad5dffbe
#     bef4ecab320f06d8554ea6380940ec79 bb300cfdad3c16e7a12a480ee83cd310
_FASHION_MNIST_SHA256 = [
    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
]
_FASHION_MNIST_REMOTE = tuple(
    RemoteFile(name, _FASHION_MNIST_URL + name, f"sha256:{sha256}")
    for name, sha256 in zip(_IDX_GZ, _FASHION_MNIST_SHA256, strict=True)
)
_CIFAR10_REMOTE = (
    RemoteFile(  # the publisher gives md5 c58f30108f718f92721af3b95e74349a
        "cifar-10-python.tar.gz",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ),
)

# ----------------------------------------------------------------------------- descriptions
_DIGITS_DESCRIPTION = (
    "scikit-learn's copy of the UCI optical handwritten digits: 1797 images of 8×8 pixels with "
    "values 0..16, targets 0..9. Always available (shipped inside scikit-learn)."
)
_MNIST_DESCRIPTION = (
    "MNIST handwritten digits (LeCun, Cortes and Burges): 60000 training and 10000 test images "
    "of 28×28 uint8 pixels, targets 0..9."
)
_FASHION_MNIST_DESCRIPTION = (
    "Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando SE, MIT licence): 60000 training and "
    "10000 test images of 28×28 uint8 pixels, 10 clothing classes (see class_names)."
)
_CIFAR10_DESCRIPTION = (
    "CIFAR-10 (Krizhevsky 2009): 50000 training and 10000 test colour images as (n, 3, 32, 32) "
    "uint8, channels first, 10 classes (see class_names)."
)
_CIFAR10_SAMPLES_DESCRIPTION = (
    "Only the first 20 CIFAR-10 test images (cifar10_samples/cifar10_test_first20.npz), not the "
    "full data set: the training split is empty. Images are (20, 3, 32, 32) uint8, channels "
    "first. Call fetch_cifar10() for all 60000 images."
)
_ELPV_DESCRIPTION = (
    "ELPV (Buerhop-Lutz et al. 2018; Deitsch et al. 2019), CC BY-NC-SA 4.0, non-commercial: 2624 "
    "electroluminescence images of solar cells, 150×150 uint8 (2×2 means of the 300×300 "
    "originals). target = defect probability × 3 (0 functional … 3 defective); defect_proba in "
    "{0, 1/3, 2/3, 1}; cell_type 0 = monocrystalline, 1 = polycrystalline."
)


class _MnistLike(NamedTuple):
    """What differs between MNIST and Fashion-MNIST: names, folder and text."""

    title: str
    folder: str
    npz: str
    fetch: str
    class_names: tuple[str, ...]
    description: str


_MNIST = _MnistLike(
    "MNIST", "mnist", "mnist.npz", "fetch_mnist", tuple("0123456789"), _MNIST_DESCRIPTION
)
_FASHION_MNIST = _MnistLike(
    "Fashion-MNIST",
    "fashion_mnist",
    "fashion_mnist.npz",
    "fetch_fashion_mnist",
    tuple("T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot".split(",")),
    _FASHION_MNIST_DESCRIPTION,
)
_CIFAR10_CLASSES = tuple("airplane automobile bird cat deer dog frog horse ship truck".split())
_ELPV_CLASSES = ("functional", "possibly defective", "likely defective", "defective")


# ----------------------------------------------------------------------------- Bunches
def _split_bunch(arrays: dict, item_shape, class_names, description, where) -> Bunch:
    """The Bunch of a data set with an official train/test split."""
    out = Bunch(class_names=tuple(class_names), description=description)
    for split in ("train", "test"):
        out[f"images_{split}"], out[f"target_{split}"] = _checked_images(
            arrays[f"images_{split}"],
            arrays[f"target_{split}"],
            item_shape,
            len(class_names),
            f"{where} ({split})",
        )
    return out


# ----------------------------------------------------------------------------- IDX files
def _read_maybe_gzip(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with gzip's magic (whatever its name)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # bad or truncated gzip stream
        raise ValueError(f"{path} is a corrupt gzip file: {exc}") from exc


def _read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """One uint8 IDX file (big-endian header: magic, then one uint32 per dimension)."""
    raw = _read_maybe_gzip(path)
    ndim = 1 + len(item_shape)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, less than an IDX header")
    found_magic, *dims = (int(v) for v in np.frombuffer(raw, ">u4", count=1 + ndim))
    if found_magic != magic:
        raise ValueError(
            f"{path} is not a {ndim}-D uint8 IDX file: magic number {found_magic:#010x}, "
            f"expected {magic:#010x}"
        )
    if tuple(dims[1:]) != item_shape:
        raise ValueError(f"{path} holds items of shape {tuple(dims[1:])}, expected {item_shape}")
    if len(raw) - header != int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated or padded: its header announces {tuple(dims)} = "
            f"{int(np.prod(dims))} bytes of data, but {len(raw) - header} follow"
        )
    # frombuffer views the immutable bytes; copy so that callers get a writable array.
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def _find_idx(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The IDX file of each Bunch key (plain or .gz), and the names of those missing."""
    found, missing = {}, []
    for key, (stem, _, _) in _IDX_FILES.items():
        hits = [p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()]
        if hits:
            found[key] = hits[0]
        else:
            missing.append(stem)
    return found, missing


# ----------------------------------------------------------------------------- CIFAR pickles
_PICKLE_GLOBALS = {
    # Python 2 era pickles (the published batches) and numpy >= 2 name the same function.
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles what a CIFAR-10 batch holds (dicts, bytes, lists, ints, numpy arrays), no more.

    A pickle can name any importable callable; refusing every other global means a tampered
    batch cannot run code.
    """

    def find_class(self, module: str, name: str):
        try:
            return _PICKLE_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: a CIFAR-10 batch holds only dicts, "
                "bytes, lists, ints and numpy arrays"
            ) from None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 3, 32, 32)`` uint8 and int64 labels of one CIFAR-10 python batch."""
    with open(path, "rb") as stream:
        try:
            batch = _CifarUnpickler(stream, encoding="bytes").load()
        except Exception as exc:  # a corrupt pickle fails in many ways; all mean "bad file"
            raise ValueError(f"{path} is not a readable CIFAR-10 batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{path} holds a {type(batch).__name__}, not a CIFAR-10 batch dict")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: b'data' must be an array of shape (n, 3072)")
    # Each row is 1024 red, then 1024 green, then 1024 blue values, each 32×32 row-major.
    images = data.reshape(-1, 3, 32, 32)
    return _checked_images(images, np.asarray(labels), (3, 32, 32), 10, path)


# ----------------------------------------------------------------------------- loaders
def load_digits() -> Bunch:
    """Load scikit-learn's 8×8 handwritten digits as uint8 images (always available).

    Returns
    -------
    sklearn.utils.Bunch
        images : ndarray of shape (1797, 8, 8), uint8
            Pixel values 0..16.
        target : ndarray of shape (1797,), int64
            Digits 0..9.
        description : str

    Examples
    --------
    >>> from skanogan.datasets import load_digits
    >>> digits = load_digits()
    >>> digits.images.shape, digits.images.dtype, int(digits.images.max())
    ((1797, 8, 8), dtype('uint8'), 16)
    >>> digits.target[:5]
    array([0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits as _sklearn_digits

    digits = _sklearn_digits()
    # scikit-learn stores the integer counts 0..16 as float64.
    return Bunch(
        images=digits.images.astype(np.uint8),
        target=digits.target.astype(np.int64),
        description=_DIGITS_DESCRIPTION,
    )


def _load_mnist_like(spec: _MnistLike, data_home: PathLike | None) -> Bunch:
    folder = get_data_home(data_home) / spec.folder
    idx, missing = _find_idx(folder)
    if not missing:  # the original files win: fetch_* verified them against pinned checksums
        arrays = {
            key: _read_idx(path, _IDX_FILES[key][1], _IDX_FILES[key][2])
            for key, path in idx.items()
        }
        where = f"IDX files in {folder}"
    elif (folder / spec.npz).is_file():
        npz = _read_npz(folder / spec.npz, list(_NPZ_KEYS.values()))
        arrays = {key: npz[name] for key, name in _NPZ_KEYS.items()}
        where = str(folder / spec.npz)
    else:
        expected = (
            f"{spec.npz} (arrays x_train, y_train, x_test, y_test) or the four IDX files "
            f"{', '.join(stem for stem, _, _ in _IDX_FILES.values())} (each may end in .gz)"
        )
        if len(missing) < len(_IDX_FILES):
            expected += f"; of those, {', '.join(missing)} are missing"
        raise _not_found(spec.title, folder, expected, fetch=spec.fetch)
    return _split_bunch(arrays, (28, 28), spec.class_names, spec.description, where)


def load_mnist(data_home: PathLike | None = None) -> Bunch:
    """Load MNIST from local files: 60000 training and 10000 test digits of 28×28.

    Reads ``<data_home>/mnist/``: the four original IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    optionally gzipped), else ``mnist.npz`` with arrays ``x_train, y_train, x_test, y_test``.
    Nothing is downloaded: :func:`fetch_mnist` does that.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`: the argument, else ``$SKANOGAN_DATA``, else the user cache.

    Returns
    -------
    sklearn.utils.Bunch
        images_train, images_test : ndarray of shape (n, 28, 28), uint8
        target_train, target_test : ndarray of shape (n,), int64
        class_names : tuple of str
            ``class_names[k]`` names target ``k``.
        description : str

    Raises
    ------
    FileNotFoundError
        Neither layout is complete; the message says what is missing and how to fetch it.
    ValueError
        A file is corrupt (bad magic number, truncated, wrong shape or labels).

    Examples
    --------
    >>> from skanogan.datasets import load_mnist
    >>> mnist = load_mnist("shared/data")  # doctest: +SKIP
    >>> mnist.images_train.shape, mnist.images_train.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    return _load_mnist_like(_MNIST, data_home)


def load_fashion_mnist(data_home: PathLike | None = None) -> Bunch:
    """Load Fashion-MNIST from local files: 60000 training and 10000 test images of 28×28.

    Reads ``<data_home>/fashion_mnist/``: the four original IDX files (same names as MNIST's,
    optionally gzipped), else ``fashion_mnist.npz`` with arrays ``x_train, y_train, x_test,
    y_test``. Nothing is downloaded: :func:`fetch_fashion_mnist` does that.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    sklearn.utils.Bunch
        images_train, images_test : ndarray of shape (n, 28, 28), uint8
        target_train, target_test : ndarray of shape (n,), int64
        class_names : tuple of str
            ``class_names[k]`` names target ``k``.
        description : str

    Raises
    ------
    FileNotFoundError
        Neither layout is complete; the message says what is missing and how to fetch it.
    ValueError
        A file is corrupt.

    Examples
    --------
    >>> from skanogan.datasets import load_fashion_mnist
    >>> fashion = load_fashion_mnist("shared/data")  # doctest: +SKIP
    >>> fashion.class_names[fashion.target_test[0]]  # doctest: +SKIP
    'Ankle boot'
    """
    return _load_mnist_like(_FASHION_MNIST, data_home)


def load_cifar10(data_home: PathLike | None = None) -> Bunch:
    """Load CIFAR-10 from local files as channels-first ``(n, 3, 32, 32)`` uint8 images.

    Reads the python version of the original distribution,
    ``<data_home>/cifar10/cifar-10-batches-py/`` (``data_batch_1`` … ``data_batch_5`` and
    ``test_batch``), with an unpickler that refuses anything but arrays, lists, bytes and ints.
    Failing that folder, it reads the 20-image sample
    ``<data_home>/cifar10_samples/cifar10_test_first20.npz`` (``x_test`` of shape
    (20, 32, 32, 3)): then the training split is empty, as ``description`` says. Nothing is
    downloaded: :func:`fetch_cifar10` does that.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    sklearn.utils.Bunch
        images_train, images_test : ndarray of shape (n, 3, 32, 32), uint8
        target_train, target_test : ndarray of shape (n,), int64
        class_names : tuple of str
            ``class_names[k]`` names target ``k``.
        description : str

    Raises
    ------
    FileNotFoundError
        Neither layout is there, or ``cifar-10-batches-py/`` lacks a batch.
    ValueError
        A file is corrupt or a pickle names anything outside numpy's array reconstruction.

    Examples
    --------
    >>> from skanogan.datasets import load_cifar10
    >>> cifar = load_cifar10()  # doctest: +SKIP
    >>> cifar.images_train.shape, cifar.images_test.shape  # doctest: +SKIP
    ((50000, 3, 32, 32), (10000, 3, 32, 32))
    """
    home = get_data_home(data_home)
    batches = home / "cifar10" / _CIFAR10_DIR
    samples = home / "cifar10_samples" / "cifar10_test_first20.npz"
    if batches.is_dir():
        missing = [n for n in (*_CIFAR10_TRAIN, _CIFAR10_TEST) if not (batches / n).is_file()]
        if missing:
            expected = f"data_batch_1 … data_batch_5 and test_batch; missing: {', '.join(missing)}"
            raise _not_found("CIFAR-10", batches, expected, fetch="fetch_cifar10", home=home)
        train = [_read_cifar_batch(batches / name) for name in _CIFAR10_TRAIN]
        arrays = {
            "images_train": np.concatenate([images for images, _ in train]),
            "target_train": np.concatenate([target for _, target in train]),
        }
        arrays["images_test"], arrays["target_test"] = _read_cifar_batch(batches / _CIFAR10_TEST)
        description, where = _CIFAR10_DESCRIPTION, str(batches)
    elif samples.is_file():
        npz = _read_npz(samples, ["x_test", "y_test"])
        if npz["x_test"].ndim != 4 or npz["x_test"].shape[1:] != (32, 32, 3):
            raise ValueError(f"{samples}: x_test must have shape (n, 32, 32, 3)")
        arrays = {
            "images_train": np.empty((0, 3, 32, 32), np.uint8),
            "target_train": np.empty(0, np.int64),
            "images_test": npz["x_test"].transpose(0, 3, 1, 2),  # NHWC -> NCHW
            "target_test": npz["y_test"],
        }
        description, where = _CIFAR10_SAMPLES_DESCRIPTION, str(samples)
    else:
        expected = (
            f"{_CIFAR10_DIR}/ with data_batch_1 … data_batch_5 and test_batch (the python "
            f"version), or the 20-image sample {samples}"
        )
        raise _not_found("CIFAR-10", home / "cifar10", expected, fetch="fetch_cifar10", home=home)
    return _split_bunch(arrays, (3, 32, 32), _CIFAR10_CLASSES, description, where)


def load_elpv(data_home: PathLike | None = None) -> Bunch:
    """Load the ELPV solar-cell images: functional versus defective cells (2624 images).

    Reads ``<data_home>/elpv/elpv_150.npz`` (arrays ``x`` (2624, 150, 150) uint8,
    ``defect_proba``, ``y``, ``cell_type``). There is no official train/test split.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    sklearn.utils.Bunch
        images : ndarray of shape (2624, 150, 150), uint8
        target : ndarray of shape (2624,), int64
            Defect probability × 3: 0 functional, 1 possibly, 2 likely, 3 certainly defective.
        defect_proba : ndarray of shape (2624,), float32
            The annotated probability 0, 1/3, 2/3 or 1.
        cell_type : ndarray of shape (2624,), int64
            0 monocrystalline, 1 polycrystalline.
        class_names : tuple of str
        description : str

    Raises
    ------
    FileNotFoundError
        The npz file is missing.
    ValueError
        It is corrupt or its arrays disagree.

    Notes
    -----
    skanogan does not download ELPV: its publisher gives no checksum to pin. The images ship in
    the pip package ``elpv-dataset`` (version 1.0.0.post1: 300×300 PNGs and ``labels.csv``;
    Apache-2.0 code, CC BY-NC-SA 4.0 data). This builds the file (2×2 means, rounded)::

        import numpy as np
        from elpv_dataset.utils import load_dataset  # pip install elpv-dataset Pillow

        images, proba, types = load_dataset()  # (2624, 300, 300) uint8, floats, "mono"/"poly"
        s = images.astype(np.uint16)
        x = (s[:, 0::2, 0::2] + s[:, 1::2, 0::2] + s[:, 0::2, 1::2] + s[:, 1::2, 1::2] + 2) // 4
        np.savez_compressed(
            "DATA_HOME/elpv/elpv_150.npz", x=x.astype(np.uint8),
            defect_proba=proba.astype(np.float32), y=np.rint(proba * 3).astype(np.uint8),
            cell_type=(types == "poly").astype(np.uint8))

    Examples
    --------
    >>> from skanogan.datasets import load_elpv
    >>> elpv = load_elpv("shared/data")  # doctest: +SKIP
    >>> normal = elpv.images[elpv.target == 0]  # doctest: +SKIP
    >>> normal.shape  # doctest: +SKIP
    (1508, 150, 150)
    """
    folder = get_data_home(data_home) / "elpv"
    path = folder / "elpv_150.npz"
    if not path.is_file():
        expected = "elpv_150.npz (arrays x, defect_proba, y, cell_type)"
        how = "skanogan does not download ELPV; build it as skanogan.datasets.load_elpv's Notes say"
        raise _not_found("ELPV", folder, expected, how=how)
    npz = _read_npz(path, ["x", "defect_proba", "y", "cell_type"])
    images, target = _checked_images(npz["x"], npz["y"], (150, 150), len(_ELPV_CLASSES), path)
    defect_proba, cell_type = npz["defect_proba"], npz["cell_type"]
    if defect_proba.shape != target.shape or cell_type.shape != target.shape:
        raise ValueError(f"{path}: defect_proba and cell_type must have one value per image")
    return Bunch(
        images=images,
        target=target,
        defect_proba=defect_proba.astype(np.float32),
        cell_type=cell_type.astype(np.int64),
        class_names=_ELPV_CLASSES,
        description=_ELPV_DESCRIPTION,
    )


# ----------------------------------------------------------------------------- fetchers
def _fetch_mnist_like(
    spec: _MnistLike,
    remotes: Sequence[RemoteFile],
    data_home: PathLike | None,
    base_url: str | None,
) -> Bunch:
    home = get_data_home(data_home)
    folder = home / spec.folder
    _, missing = _find_idx(folder)
    if missing and not (folder / spec.npz).is_file():
        _download_all(remotes, folder, base_url=base_url, caller=spec.fetch)
    return _load_mnist_like(spec, home)


_FETCH_DOC = """Download {title}'s original IDX files if they are missing, then load them.

    The four gzipped IDX files go to ``<data_home>/{folder}/``. Each is checked against a pinned
    SHA-256 (the publisher's MD5 is noted in the source), streamed to a temporary file and moved
    into place only when it matches, so a failed download leaves nothing behind. Nothing is
    downloaded when the folder already holds a complete copy (IDX files or ``{npz}``); an
    existing file that does not match its checksum is an error and is never overwritten.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    base_url : str, default=None
        Folder URL of a mirror that serves the same file names, e.g. ``{mirror}``.
        HTTPS only. The pinned checksums still apply.

    Returns
    -------
    sklearn.utils.Bunch
        What :func:`{load}` returns.

    Raises
    ------
    ImportError
        pooch is not installed: ``pip install 'skanogan[datasets]'``.
    ValueError
        A download or an existing file does not match its checksum.
    OSError
        The download failed (network error, truncated transfer).

    Examples
    --------
    >>> from skanogan.datasets import {fetch}
    >>> data = {fetch}()  # doctest: +SKIP
    """


def fetch_mnist(data_home: PathLike | None = None, *, base_url: str | None = None) -> Bunch:
    return _fetch_mnist_like(_MNIST, _MNIST_REMOTE, data_home, base_url)


def fetch_fashion_mnist(data_home: PathLike | None = None, *, base_url: str | None = None) -> Bunch:
    return _fetch_mnist_like(_FASHION_MNIST, _FASHION_MNIST_REMOTE, data_home, base_url)


fetch_mnist.__doc__ = _FETCH_DOC.format(
    title="MNIST",
    folder="mnist",
    npz="mnist.npz",
    mirror="https://storage.googleapis.com/cvdf-datasets/mnist/",
    load="load_mnist",
    fetch="fetch_mnist",
)
fetch_fashion_mnist.__doc__ = _FETCH_DOC.format(
    title="Fashion-MNIST",
    folder="fashion_mnist",
    npz="fashion_mnist.npz",
    mirror="https://example.org/fashion-mnist/",
    load="load_fashion_mnist",
    fetch="fetch_fashion_mnist",
)


def fetch_cifar10(data_home: PathLike | None = None, *, base_url: str | None = None) -> Bunch:
    """Download CIFAR-10's python version if it is missing, unpack it, then load it.

    ``cifar-10-python.tar.gz`` (163 MB) goes to ``<data_home>/cifar10/``, checked against a
    pinned SHA-256 (the publisher's MD5 is noted in the source), streamed to a temporary file
    and moved into place only when it matches. It is unpacked with tarfile's ``"data"`` filter
    into ``cifar10/cifar-10-batches-py/``, adding only files that are not there yet; the
    archive is kept. Nothing is downloaded when all batches are already present.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    base_url : str, default=None
        Folder URL of a mirror that serves ``cifar-10-python.tar.gz``. HTTPS only. The pinned
        checksum still applies.

    Returns
    -------
    sklearn.utils.Bunch
        What :func:`load_cifar10` returns.

    Raises
    ------
    ImportError
        pooch is not installed: ``pip install 'skanogan[datasets]'``.
    ValueError
        The download or an existing archive does not match its checksum, or cannot be unpacked.
    OSError
        The download failed (network error, truncated transfer).

    Examples
    --------
    >>> from skanogan.datasets import fetch_cifar10
    >>> cifar = fetch_cifar10()  # doctest: +SKIP
    """
    home = get_data_home(data_home)
    folder = home / "cifar10"
    batches = folder / _CIFAR10_DIR
    if not all((batches / n).is_file() for n in (*_CIFAR10_TRAIN, _CIFAR10_TEST)):
        (archive,) = _download_all(
            _CIFAR10_REMOTE, folder, base_url=base_url, caller="fetch_cifar10"
        )
        _extract_folder(archive, folder, _CIFAR10_DIR)
    return load_cifar10(home)
