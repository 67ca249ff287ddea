"""skanogan.datasets: local readers (IDX, CIFAR pickles, npz), real data, and checksummed fetches.

Downloads are tested against an HTTP server on 127.0.0.1 that this file starts; it serves small
files written here, so no test touches the network.
"""

import gzip
import hashlib
import io
import os
import pickle
import struct
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits as sklearn_digits

from skanogan import datasets
from skanogan.datasets import _fetch
from skanogan.datasets._base import RemoteFile

IDX_NAMES = {
    "images_train": ("train-images-idx3-ubyte", 0x0803),
    "target_train": ("train-labels-idx1-ubyte", 0x0801),
    "images_test": ("t10k-images-idx3-ubyte", 0x0803),
    "target_test": ("t10k-labels-idx1-ubyte", 0x0801),
}
CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


# ----------------------------------------------------------------------------- writers
def small_split(seed=0, n_train=5, n_test=3):
    """Random MNIST-like uint8 arrays under the Bunch keys."""
    rng = np.random.default_rng(seed)
    return {
        "images_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "target_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "images_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "target_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def idx_bytes(array, magic):
    """An IDX file: big-endian magic, one uint32 per dimension, then the uint8 data."""
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()


def write_idx_folder(folder, arrays, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for key, (stem, magic) in IDX_NAMES.items():
        raw = idx_bytes(arrays[key], magic)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw, mtime=0))
        else:
            (folder / stem).write_bytes(raw)


class Py2Pickler(pickle._Pickler):
    """Writes bytes and str as Python 2 strings (BINSTRING), as in the published CIFAR batches.

    Python 3's protocol 2 would wrap bytes in ``_codecs.encode`` calls instead, which the real
    files never contain.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    def save_str(self, obj):
        self.save_bytes(obj.encode("latin-1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def py2_pickle(obj):
    stream = io.BytesIO()
    Py2Pickler(stream, protocol=2).dump(obj)
    # numpy 1.x under Python 2 named the module numpy.core.multiarray.
    return stream.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def write_cifar_folder(folder, n=4, seed=0):
    """Six tiny batches in the original layout; returns the source images (N, 32, 32, 3)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sources = {}
    for name in CIFAR_BATCHES:
        hwc = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        # The published layout: per row, the 1024 red values, then green, then blue.
        data = hwc.transpose(0, 3, 1, 2).reshape(n, 3072)
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data}
        batch[b"filenames"] = [f"img_{i}.png".encode() for i in range(n)]
        (folder / name).write_bytes(py2_pickle(batch))
        sources[name] = (hwc, labels)
    return sources


def tar_gz(root, top):
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w:gz") as tar:
        tar.add(root / top, arcname=top)
    return stream.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def assert_split_equal(bunch, arrays):
    for key, expected in arrays.items():
        assert np.array_equal(bunch[key], expected), key
    assert bunch.images_train.dtype == np.uint8 and bunch.target_train.dtype == np.int64


# ----------------------------------------------------------------------------- local server
class Server:
    """HTTP on 127.0.0.1 (port 0) in a thread; counts requests; can cut a transfer short."""

    def __init__(self):
        self.files, self.send_only, self.requests = {}, {}, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                owner.requests.append(name)
                body = owner.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))  # the whole file, announced
                self.end_headers()
                self.wfile.write(body[: owner.send_only.get(name, len(body))])

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    srv = Server()
    yield srv
    srv.close()


def serve_mnist(server, monkeypatch, arrays, *, pinned=None):
    """Serve gzipped IDX files of ``arrays`` and point fetch_mnist's table at them."""
    remotes = []
    for key, (stem, magic) in IDX_NAMES.items():
        name = f"{stem}.gz"
        server.files[name] = gzip.compress(idx_bytes(arrays[key], magic), mtime=0)
        known = (pinned or {}).get(name, sha256(server.files[name]))
        remotes.append(RemoteFile(name, f"{server.url}/{name}", known))
    monkeypatch.setattr(_fetch, "_MNIST_REMOTE", tuple(remotes))
    return remotes


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- digits, homes
def test_load_digits_is_uint8_images_of_sklearn_digits():
    digits = datasets.load_digits()
    reference = sklearn_digits()
    assert digits.images.shape == (1797, 8, 8) and digits.images.dtype == np.uint8
    assert np.array_equal(digits.images, reference.images)
    assert digits.target.dtype == np.int64 and np.array_equal(digits.target, reference.target)
    assert set(digits) == {"images", "target", "description"}


def test_get_data_home_prefers_argument_then_environment_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SKANOGAN_DATA", str(tmp_path / "env"))
    assert datasets.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert datasets.get_data_home() == tmp_path / "env"
    monkeypatch.delenv("SKANOGAN_DATA")
    pooch = pytest.importorskip("pooch")
    assert datasets.get_data_home() == Path(pooch.os_cache("skanogan"))
    monkeypatch.setitem(sys.modules, "pooch", None)  # as if pooch were not installed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert datasets.get_data_home() == tmp_path / "cache" / "skanogan"


def test_loading_needs_no_pooch_but_fetching_says_what_to_install(monkeypatch, tmp_path):
    arrays = small_split()
    write_idx_folder(tmp_path / "mnist", arrays, gz=True)
    monkeypatch.setitem(sys.modules, "pooch", None)
    monkeypatch.setenv("SKANOGAN_DATA", str(tmp_path))
    assert_split_equal(datasets.load_mnist(), arrays)
    with pytest.raises(ImportError, match=r"pip install 'skanogan\[datasets\]'"):
        datasets.fetch_fashion_mnist(tmp_path)


# ----------------------------------------------------------------------------- IDX files
@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
@pytest.mark.parametrize("loader", ["mnist", "fashion_mnist"])
def test_idx_files_round_trip(tmp_path, gz, loader):
    arrays = small_split()
    write_idx_folder(tmp_path / loader, arrays, gz=gz)
    bunch = getattr(datasets, f"load_{loader}")(tmp_path)
    assert_split_equal(bunch, arrays)
    assert len(bunch.class_names) == 10 and bunch.description
    assert bunch.images_train.flags.writeable


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda raw: struct.pack(">I", 0x0801) + raw[4:], "magic number 0x00000801"),
        (lambda raw: raw[:-7], "truncated"),
        (lambda raw: raw[:10], "truncated"),
        (lambda raw: raw + b"\0", "padded"),
        (lambda raw: gzip.compress(raw)[:-20], "corrupt gzip"),
        (lambda raw: raw[:8] + struct.pack(">I", 27) + raw[12:], r"shape \(27, 28\)"),
    ],
    ids=["bad-magic", "truncated-data", "truncated-header", "trailing-bytes", "bad-gzip", "shape"],
)
def test_corrupt_idx_file_is_a_value_error_naming_it(tmp_path, corrupt, message):
    write_idx_folder(tmp_path / "mnist", small_split(), gz=False)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte"
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        datasets.load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_labels_must_match_the_images(tmp_path):
    arrays = small_split()
    arrays["target_test"] = np.array([1, 2], np.uint8)  # 3 test images
    write_idx_folder(tmp_path / "mnist", arrays, gz=False)
    with pytest.raises(ValueError, match="3 images but targets of shape"):
        datasets.load_mnist(tmp_path)


def test_missing_mnist_names_the_files_and_the_fetch_function(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_mnist") as info:
        datasets.load_mnist(tmp_path)
    assert str(tmp_path / "mnist") in str(info.value) and "mnist.npz" in str(info.value)
    write_idx_folder(tmp_path / "mnist", small_split(), gz=True)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte are missing"):
        datasets.load_mnist(tmp_path)


def test_npz_layout_and_its_errors(tmp_path):
    arrays = small_split()
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    path = folder / "fashion_mnist.npz"
    keys = {"images_train": "x_train", "target_train": "y_train"}
    keys |= {"images_test": "x_test", "target_test": "y_test"}
    np.savez(path, **{keys[k]: v for k, v in arrays.items()})
    assert_split_equal(datasets.load_fashion_mnist(tmp_path), arrays)
    np.savez(path, x_train=arrays["images_train"])
    with pytest.raises(ValueError, match=r"lacks the arrays \['y_train'"):
        datasets.load_fashion_mnist(tmp_path)
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable npz"):
        datasets.load_fashion_mnist(tmp_path)


# ----------------------------------------------------------------------------- CIFAR-10
def test_cifar_pickles_round_trip_channels_first(tmp_path):
    sources = write_cifar_folder(tmp_path / "cifar10" / "cifar-10-batches-py")
    cifar = datasets.load_cifar10(tmp_path)
    train_hwc = np.concatenate([sources[name][0] for name in CIFAR_BATCHES[:5]])
    assert cifar.images_train.shape == (20, 3, 32, 32) and cifar.images_test.shape == (4, 3, 32, 32)
    assert np.array_equal(cifar.images_train, train_hwc.transpose(0, 3, 1, 2))
    assert np.array_equal(cifar.images_test, sources["test_batch"][0].transpose(0, 3, 1, 2))
    assert cifar.target_train.tolist() == [y for n in CIFAR_BATCHES[:5] for y in sources[n][1]]
    assert cifar.target_train.dtype == np.int64 and cifar.images_train.dtype == np.uint8
    assert cifar.class_names[0] == "airplane" and len(cifar.class_names) == 10


def test_cifar_samples_npz_is_an_empty_train_split(tmp_path):
    hwc = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    (tmp_path / "cifar10_samples").mkdir()
    np.savez(
        tmp_path / "cifar10_samples" / "cifar10_test_first20.npz", x_test=hwc, y_test=[3, 8, 8]
    )
    cifar = datasets.load_cifar10(tmp_path)
    assert cifar.images_train.shape == (0, 3, 32, 32) and cifar.target_train.shape == (0,)
    assert np.array_equal(cifar.images_test, hwc.transpose(0, 3, 1, 2))
    assert "first 20" in cifar.description and "training split is empty" in cifar.description


class Evil:
    """Unpickling this would run a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_cifar_pickle_with_a_forbidden_global_is_refused(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_cifar_folder(folder)
    marker = tmp_path / "pwned"
    (folder / "data_batch_3").write_bytes(py2_pickle({b"data": Evil(marker)}))
    with pytest.raises(ValueError, match=r"refusing to unpickle \w+\.system") as info:
        datasets.load_cifar10(tmp_path)
    assert "data_batch_3" in str(info.value) and not marker.exists()


def test_cifar_missing_or_corrupt_batches(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_cifar_folder(folder)
    (folder / "test_batch").write_bytes((folder / "test_batch").read_bytes()[:100])
    with pytest.raises(ValueError, match="test_batch is not a readable CIFAR-10 batch"):
        datasets.load_cifar10(tmp_path)
    (folder / "test_batch").write_bytes(py2_pickle({b"data": np.zeros((2, 100), np.uint8)}))
    with pytest.raises(ValueError, match=r"shape \(n, 3072\)"):
        datasets.load_cifar10(tmp_path)
    (folder / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing: test_batch.*fetch_cifar10"):
        datasets.load_cifar10(tmp_path)


# ----------------------------------------------------------------------------- real data
def test_real_mnist_and_fashion_mnist(shared_data_home):
    mnist = datasets.load_mnist(shared_data_home)
    assert mnist.images_train.shape == (60000, 28, 28) and mnist.images_test.shape == (
        10000,
        28,
        28,
    )
    assert mnist.images_train.dtype == np.uint8 and mnist.target_train.dtype == np.int64
    assert np.bincount(mnist.target_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]  # fmt: skip
    assert np.bincount(mnist.target_test).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]  # fmt: skip
    fashion = datasets.load_fashion_mnist(shared_data_home)
    assert fashion.images_train.shape == (60000, 28, 28)
    assert np.bincount(fashion.target_train).tolist() == [6000] * 10
    assert np.bincount(fashion.target_test).tolist() == [1000] * 10
    assert fashion.class_names[9] == "Ankle boot"


def test_real_elpv(shared_data_home):
    elpv = datasets.load_elpv(shared_data_home)
    assert elpv.images.shape == (2624, 150, 150) and elpv.images.dtype == np.uint8
    assert np.bincount(elpv.target).tolist() == [1508, 295, 106, 715]
    assert np.allclose(elpv.defect_proba * 3, elpv.target)
    assert set(np.unique(elpv.cell_type)) == {0, 1} and elpv.target.dtype == np.int64
    assert set(elpv) == {
        "images",
        "target",
        "defect_proba",
        "cell_type",
        "class_names",
        "description",
    }


def test_real_cifar10_samples(shared_data_home):
    cifar = datasets.load_cifar10(shared_data_home)
    with np.load(shared_data_home / "cifar10_samples" / "cifar10_test_first20.npz") as raw:
        x_test = raw["x_test"]
    assert cifar.images_test.shape == (20, 3, 32, 32) and cifar.images_train.shape[0] == 0
    assert np.array_equal(cifar.images_test, x_test.transpose(0, 3, 1, 2))
    first20 = [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]  # as fetch.sh checks
    assert cifar.target_test.tolist() == first20
    assert cifar.images_test.flags.c_contiguous


def test_missing_elpv_explains_how_to_build_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"elpv_150\.npz.*does not download ELPV"):
        datasets.load_elpv(tmp_path)


# ----------------------------------------------------------------------------- fetching
def test_fetch_then_load_and_a_second_fetch_downloads_nothing(server, monkeypatch, tmp_path):
    arrays = small_split()
    remotes = serve_mnist(server, monkeypatch, arrays)
    assert_split_equal(datasets.fetch_mnist(tmp_path), arrays)
    folder = tmp_path / "mnist"
    assert sorted(server.requests) == sorted(r.name for r in remotes)
    assert files_in(folder) == sorted(r.name for r in remotes)  # no temporary files left
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert_split_equal(datasets.fetch_mnist(tmp_path), arrays)
    assert_split_equal(datasets.load_mnist(tmp_path), arrays)
    assert len(server.requests) == 4  # neither the second fetch nor load asked again
    assert stamps == {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_fetch_downloads_only_what_is_missing_from_a_mirror(server, monkeypatch, tmp_path):
    arrays = small_split()
    remotes = serve_mnist(server, monkeypatch, arrays)
    unreachable = [r._replace(url=f"https://unreachable.invalid/{r.name}") for r in remotes]
    monkeypatch.setattr(_fetch, "_MNIST_REMOTE", tuple(unreachable))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / remotes[1].name).write_bytes(server.files[remotes[1].name])
    datasets.fetch_mnist(tmp_path, base_url=server.url + "/")
    assert sorted(server.requests) == sorted(r.name for i, r in enumerate(remotes) if i != 1)


def test_load_never_downloads(server, monkeypatch, tmp_path):
    serve_mnist(server, monkeypatch, small_split())
    with pytest.raises(FileNotFoundError):
        datasets.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError):
        datasets.load_cifar10(tmp_path)
    assert server.requests == [] and files_in(tmp_path) == []


def test_bad_checksum_leaves_nothing_behind(server, monkeypatch, tmp_path):
    arrays = small_split()
    name = "train-labels-idx1-ubyte.gz"
    serve_mnist(server, monkeypatch, arrays, pinned={name: sha256(b"the published bytes")})
    with pytest.raises(ValueError, match="does not match the pinned checksum") as info:
        datasets.fetch_mnist(tmp_path)
    assert name in str(info.value)
    assert name not in files_in(tmp_path / "mnist")
    assert all(f.endswith(".gz") for f in files_in(tmp_path / "mnist"))  # no partial files


@pytest.mark.parametrize("how", ["connection-cut", "short-file"])
def test_truncated_download_leaves_nothing_behind(server, monkeypatch, tmp_path, how):
    arrays = small_split()
    remotes = serve_mnist(server, monkeypatch, arrays)
    name = remotes[0].name
    if how == "connection-cut":  # fewer bytes than the announced Content-Length
        server.send_only[name] = len(server.files[name]) // 2
        error, message = OSError, "could not download"
    else:  # a complete transfer of a truncated file: its hash differs
        server.files[name] = server.files[name][:-100]
        error, message = ValueError, "pinned checksum"
    with pytest.raises(error, match=message):
        datasets.fetch_mnist(tmp_path)
    assert files_in(tmp_path / "mnist") == []  # neither the target nor a temporary file


def test_existing_file_with_a_wrong_checksum_is_never_overwritten(server, monkeypatch, tmp_path):
    remotes = serve_mnist(server, monkeypatch, small_split())
    (tmp_path / "mnist").mkdir()
    mine = tmp_path / "mnist" / remotes[0].name
    mine.write_bytes(b"someone else's file")
    with pytest.raises(ValueError, match=r"left untouched\. Delete it"):
        datasets.fetch_mnist(tmp_path)
    assert mine.read_bytes() == b"someone else's file" and server.requests == []


def test_plain_http_is_refused_except_from_this_machine(tmp_path):
    with pytest.raises(ValueError, match="must use https://"):
        datasets.fetch_mnist(tmp_path, base_url="http://example.org/mnist")
    assert files_in(tmp_path) == []


def test_fetch_cifar10_unpacks_the_archive_once(server, monkeypatch, tmp_path):
    sources = write_cifar_folder(tmp_path / "src" / "cifar-10-batches-py")
    archive = tar_gz(tmp_path / "src", "cifar-10-batches-py")
    server.files["cifar-10-python.tar.gz"] = archive
    remote = RemoteFile(
        "cifar-10-python.tar.gz", f"{server.url}/cifar-10-python.tar.gz", sha256(archive)
    )
    monkeypatch.setattr(_fetch, "_CIFAR10_REMOTE", (remote,))
    home = tmp_path / "home"
    cifar = datasets.fetch_cifar10(home)
    assert np.array_equal(cifar.images_test, sources["test_batch"][0].transpose(0, 3, 1, 2))
    assert files_in(home / "cifar10") == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    assert files_in(home / "cifar10" / "cifar-10-batches-py") == sorted(CIFAR_BATCHES)
    datasets.fetch_cifar10(home)
    assert server.requests == ["cifar-10-python.tar.gz"]


def test_fetch_cifar10_refuses_an_archive_that_escapes_its_folder(server, monkeypatch, tmp_path):
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/../../escaped")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    server.files["cifar-10-python.tar.gz"] = archive = stream.getvalue()
    remote = RemoteFile(
        "cifar-10-python.tar.gz", f"{server.url}/cifar-10-python.tar.gz", sha256(archive)
    )
    monkeypatch.setattr(_fetch, "_CIFAR10_REMOTE", (remote,))
    with pytest.raises(ValueError, match="could not be unpacked"):
        datasets.fetch_cifar10(tmp_path / "home")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "home" / "escaped").exists()
    assert files_in(tmp_path / "home" / "cifar10") == ["cifar-10-python.tar.gz"]
