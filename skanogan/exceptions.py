"""Warnings that skanogan raises, so that users can filter them by class.

Examples
--------
>>> import warnings
>>> from skanogan.exceptions import ImageShapeWarning
>>> warnings.simplefilter("error", ImageShapeWarning)  # make the guess an error
>>> warnings.resetwarnings()
"""

__all__ = ["DeviceWarning", "ImageShapeWarning"]


class DeviceWarning(UserWarning):
    """A model is moved to another device than the one it was fitted on."""


class ImageShapeWarning(UserWarning):
    """2-D input whose feature count looks like a flattened image, with ``image_shape=None``."""
