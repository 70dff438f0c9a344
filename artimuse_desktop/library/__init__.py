"""The photo library: walking folders, reading metadata, fingerprinting and indexing into the catalog.

Light to import; the heavy work lives in ``indexer`` (catalog writes) and ``analyse`` (the per-file work that
runs on worker threads or processes).
"""
