"""Image data sets for anomaly detection, as uint8 arrays shaped for the estimator.

``load_*`` functions read local files only and never download; ``fetch_*`` functions download
the publishers' files when called (checksummed, needs ``pip install 'skanogan[datasets]'``)
and return what the matching ``load_*`` returns. Files are looked up under
:func:`get_data_home`: the ``data_home`` argument, else ``$SKANOGAN_DATA``, else the user cache.

=========================  =================================  ==============================
function                   images                             folder under data_home
=========================  =================================  ==============================
:func:`load_digits`        (1797, 8, 8), values 0..16         none (inside scikit-learn)
:func:`load_mnist`         (60000 | 10000, 28, 28)            ``mnist/``
:func:`load_fashion_mnist` (60000 | 10000, 28, 28)            ``fashion_mnist/``
:func:`load_cifar10`       (50000 | 10000, 3, 32, 32)         ``cifar10/`` or ``cifar10_samples/``
:func:`load_elpv`          (2624, 150, 150)                   ``elpv/`` (no fetch function)
=========================  =================================  ==============================

Examples
--------
>>> from skanogan.datasets import load_digits
>>> digits = load_digits()
>>> normal = digits.images[digits.target == 0]  # train a detector on one digit
>>> normal.shape
(178, 8, 8)
"""

from skanogan.datasets._base import RemoteFile, get_data_home
from skanogan.datasets._fetch import fetch_cifar10, fetch_fashion_mnist, fetch_mnist
from skanogan.datasets._images import (
    load_cifar10,
    load_digits,
    load_elpv,
    load_fashion_mnist,
    load_mnist,
)

__all__ = [
    "RemoteFile",
    "fetch_cifar10",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "get_data_home",
    "load_cifar10",
    "load_digits",
    "load_elpv",
    "load_fashion_mnist",
    "load_mnist",
]
