"""Warnings and errors that skanogan raises, so that users can filter or catch them by class.

Examples
--------
>>> import warnings
>>> from skanogan.exceptions import ImageShapeWarning
>>> warnings.simplefilter("error", ImageShapeWarning)  # make the guess an error
>>> warnings.resetwarnings()
"""

__all__ = ["DeviceWarning", "DivergenceError", "ImageShapeWarning"]


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss.

    ``term`` names the loss term (a key of ``history_``), ``step`` the batch of the epoch by
    which it was seen, and ``epoch`` (when raised by ``fit``) the epoch that diverged.
    """

    def __init__(self, message: str, *, term: str, step: int, epoch: int | None = None) -> None:
        super().__init__(message)
        self.term = term
        self.step = step
        self.epoch = epoch


class DeviceWarning(UserWarning):
    """A model is moved to another device than the one it was fitted on."""


class ImageShapeWarning(UserWarning):
    """2-D input whose feature count looks like a flattened image, with ``image_shape=None``."""
