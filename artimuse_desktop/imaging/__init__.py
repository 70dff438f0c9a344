"""Reading photos: format sniffing, fast reduced decodes, orientation and the thumbnail cache.

Kept light on purpose: the heavy libraries (rawpy, pillow-heif, numpy) are imported by the modules that need
them, and pillow-heif's opener is registered lazily on the first HEIC, so ``import artimuse_desktop.imaging``
costs nothing at start-up.
"""
