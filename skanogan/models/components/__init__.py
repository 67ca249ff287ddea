"""Building blocks shared by the models (internal): DCGAN conv networks, their MLP variants, init.

- :mod:`~skanogan.models.components.dcgan`: the conv pyramid, ``Encoder``, ``Decoder``,
  ``Discriminator``.
- :mod:`~skanogan.models.components.mlp`: ``MLPEncoder``, ``MLPDecoder``, ``MLPDiscriminator``.
- :mod:`~skanogan.models.components.init`: ``init_dcgan_weights``.
"""
