"""Image data sets as channels-first uint8 arrays: digits, MNIST, Fashion-MNIST, CIFAR-10, ELPV.

``load_*`` reads local files only: the layout of the project's data folder (npz files) and the
original distribution formats (IDX files, CIFAR-10 python pickles, read in
:mod:`skanogan.datasets._formats`). The ``fetch_*`` downloaders are in
:mod:`skanogan.datasets._fetch`.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch

from skanogan.datasets._base import (
    _checked_images,
    _not_found,
    _read_npz,
    get_data_home,
)
from skanogan.datasets._formats import _IDX_FILES, _find_idx, _read_cifar_batch, _read_idx

__all__ = [
    "load_cifar10",
    "load_digits",
    "load_elpv",
    "load_fashion_mnist",
    "load_mnist",
]

PathLike = str | os.PathLike[str]

_NPZ_KEYS = {
    "images_train": "x_train",
    "target_train": "y_train",
    "images_test": "x_test",
    "target_test": "y_test",
}
_CIFAR10_DIR = "cifar-10-batches-py"
_CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR10_TEST = "test_batch"

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
