"""Core helpers of every detector (internal): input samples and their checks, image geometry and
pixel scaling, devices and precision.

- :mod:`~skanogan.core._samples`: ``Samples``, the input read and converted a batch at a time.
- :mod:`~skanogan.core._validation`: parameter rules and the checks of ``X``.
- :mod:`~skanogan.core._shapes`: ``ImageGeometry`` (resize/pad to the network's square and back)
  and ``PixelScaler``.
- :mod:`~skanogan.core._device`: device and mixed-precision choice, moving state across devices.
"""
