"""Where data sets live, how remote files are described, and the one place that downloads.

Also the checks shared by every loader: npz reading, image/target validation, archive
extraction, and the "not found" message. Reading local files needs nothing beyond numpy.
Downloading needs pooch, which is imported lazily inside the functions that download, so
``import skanogan.datasets`` works without it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np

__all__ = ["RemoteFile", "get_data_home"]

logger = logging.getLogger(__name__)

# Plain http:// is accepted only from this machine: local mirrors and the test suite's server.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_INSTALL_HINT = "pip install 'skanogan[datasets]'"


class RemoteFile(NamedTuple):
    """One file that a ``fetch_*`` function downloads.

    Attributes
    ----------
    name : str
        File name inside the data set's folder, e.g. ``"train-images-idx3-ubyte.gz"``.
    url : str
        HTTPS address of the publisher's copy.
    known_hash : str
        Checksum in pooch's ``"algorithm:hex"`` form: ``"sha256:…"``, or ``"md5:…"`` where the
        publisher gives nothing stronger.
    """

    name: str
    url: str
    known_hash: str


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds skanogan's data sets, one sub-folder per data set.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Used as given (with ``~`` expanded). When None, the environment variable
        ``SKANOGAN_DATA`` is used if set, else pooch's per-user cache folder for "skanogan"
        (``~/.cache/skanogan`` on Linux; the same path when pooch is not installed).

    Returns
    -------
    pathlib.Path
        The folder. It is not created here: ``load_*`` functions only read, and ``fetch_*``
        functions create what they write.

    Examples
    --------
    >>> from skanogan.datasets import get_data_home
    >>> str(get_data_home("/data/skanogan"))
    '/data/skanogan'
    """
    if data_home is None:
        data_home = os.environ.get("SKANOGAN_DATA") or None
    if data_home is not None:
        if not isinstance(data_home, (str, os.PathLike)):
            raise TypeError(f"data_home must be a str, os.PathLike or None, got {data_home!r}")
        return Path(data_home).expanduser()
    try:
        import pooch
    except ImportError:
        # Reading must never need pooch; this is where pooch's cache sits on Linux.
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache).expanduser() / "skanogan"
    return Path(pooch.os_cache("skanogan"))


def _import_pooch(caller: str):
    """Import pooch for ``caller`` or say what to install."""
    try:
        import pooch
    except ImportError as exc:
        raise ImportError(
            f"{caller} downloads with pooch, which is not installed: {_INSTALL_HINT}"
        ) from exc
    return pooch


def _check_url(url: str) -> None:
    """Downloads go over HTTPS only; plain HTTP is allowed from this machine alone."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        return
    raise ValueError(f"download URLs must use https://, got {url!r}")


def _file_hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash_matches(path: Path, known_hash: str) -> bool:
    algorithm, _, expected = known_hash.partition(":")
    return _file_hash(path, algorithm) == expected.lower()


def _download(
    remote: RemoteFile, folder: Path, *, base_url: str | None = None, caller: str = "fetch"
) -> Path:
    """Make ``folder / remote.name`` hold the checksummed file, downloading it if absent.

    An existing file is verified and never replaced: a mismatch is an error that leaves it as
    it is. pooch streams a download into a temporary file in ``folder``, checks its hash and only
    then moves it into place, so a failed or corrupt download leaves nothing at the target.
    """
    target = folder / remote.name
    if target.exists():
        if not _hash_matches(target, remote.known_hash):
            raise ValueError(
                f"{target} exists but does not match the pinned checksum {remote.known_hash}; "
                f"it was left untouched. Delete it and call {caller} again to download it."
            )
        logger.info("%s is already present and verified", target)
        return target
    url = remote.url if base_url is None else f"{base_url.rstrip('/')}/{remote.name}"
    _check_url(url)
    pooch = _import_pooch(caller)
    folder.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s to %s", url, target)
    try:
        pooch.retrieve(
            url, known_hash=remote.known_hash, fname=remote.name, path=folder, progressbar=True
        )
    except ValueError as exc:  # pooch's checksum mismatch
        raise ValueError(
            f"the file downloaded from {url} does not match the pinned checksum "
            f"{remote.known_hash}; nothing was saved at {target}. ({exc})"
        ) from exc
    except OSError as exc:  # requests' errors (refused, reset, truncated) are OSErrors
        raise OSError(f"could not download {url}: {exc}. Nothing was saved at {target}.") from exc
    return target


def _download_all(
    remotes: Sequence[RemoteFile], folder: Path, *, base_url: str | None, caller: str
) -> list[Path]:
    return [_download(r, folder, base_url=base_url, caller=caller) for r in remotes]


def _read_npz(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an npz file, read without pickle; a bad file is a ValueError."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (FileNotFoundError, PermissionError):
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable npz file: {exc}") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single .npy array, not an npz archive of {list(keys)}")
    with npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing} (it holds {sorted(npz.files)})")
        try:
            return {k: npz[k] for k in keys}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
            raise ValueError(f"{path} is corrupt: {exc}") from exc


def _checked_images(
    images: np.ndarray, target: np.ndarray, item_shape: tuple[int, ...], n_classes: int, where
) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous uint8 images of ``(n, *item_shape)`` and int64 targets in ``0..n_classes-1``."""
    if images.dtype != np.uint8 or images.shape[1:] != item_shape:
        raise ValueError(
            f"{where}: images must be uint8 of shape (n, {', '.join(map(str, item_shape))}), "
            f"got {images.dtype} {images.shape}"
        )
    if target.shape != (len(images),):
        raise ValueError(f"{where}: {len(images)} images but targets of shape {target.shape}")
    if target.dtype.kind not in "iu" or (
        target.size and (target.min() < 0 or target.max() >= n_classes)
    ):
        raise ValueError(f"{where}: targets must be integers in 0..{n_classes - 1}")
    return np.ascontiguousarray(images), target.astype(np.int64)


def _extract_folder(archive: Path, folder: Path, top: str) -> None:
    """Unpack the flat folder ``top/`` of a .tar.gz into ``folder``, adding only files it lacks."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".extract-") as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = [m for m in tar.getmembers() if m.name.split("/")[0] == top]
                _safe_extract(tar, members, tmp)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ValueError(f"{archive} could not be unpacked: {exc}") from exc
        unpacked = Path(tmp) / top
        if not unpacked.is_dir():
            raise ValueError(f"{archive} holds no {top}/ folder")
        target = folder / top
        target.mkdir(exist_ok=True)
        for path in unpacked.iterdir():
            if path.is_file() and not (target / path.name).exists():
                os.replace(path, target / path.name)  # same file system: atomic


def _safe_extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: str) -> None:
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, members=members, filter="data")
        return
    # Pythons before 3.10.12 / 3.11.4 lack filters: allow plain files and folders inside dest.
    for m in members:
        if (
            not (m.isfile() or m.isdir())
            or m.name.startswith("/")
            or ".." in PurePosixPath(m.name).parts
        ):
            raise tarfile.TarError(f"refusing to extract {m.name!r}")
    tar.extractall(dest, members=members)


def _not_found(
    dataset: str,
    folder: Path,
    expected: str,
    *,
    fetch: str | None = None,
    home: Path | None = None,
    how: str | None = None,
) -> FileNotFoundError:
    """One actionable message: what was expected where, and how to get it."""
    if fetch is not None:
        home = folder.parent if home is None else home
        how = (
            f"Download it with skanogan.datasets.{fetch}(data_home={str(home)!r}) "
            f"(needs {_INSTALL_HINT})"
        )
    return FileNotFoundError(
        f"{dataset} was not found in {folder}: expected {expected}. {how}; or pass data_home= "
        "(or set $SKANOGAN_DATA) to a folder that already holds it."
    )
