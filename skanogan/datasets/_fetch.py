"""Explicit downloaders: the publishers' files, checksummed and cached by pooch, then loaded."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.utils import Bunch

from skanogan.datasets._base import RemoteFile, _download_all, _extract_folder, get_data_home
from skanogan.datasets._formats import _IDX_FILES, _find_idx
from skanogan.datasets._images import (
    _CIFAR10_DIR,
    _CIFAR10_TEST,
    _CIFAR10_TRAIN,
    _FASHION_MNIST,
    _MNIST,
    PathLike,
    _load_mnist_like,
    _MnistLike,
    load_cifar10,
)

__all__ = ["fetch_cifar10", "fetch_fashion_mnist", "fetch_mnist"]

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
