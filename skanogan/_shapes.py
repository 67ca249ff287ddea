"""Former home of the image geometry and pixel scaling, now :mod:`skanogan.core._shapes`.

Kept so that pickles made before skanogan's restructuring, which name
``skanogan._shapes.PixelScaler`` and ``skanogan._shapes.ImageGeometry``, still load.
"""

from skanogan.core._shapes import ImageGeometry, PixelScaler

__all__ = ["ImageGeometry", "PixelScaler"]
