"""The photo library: walking folders, reading metadata, fingerprinting and indexing into the catalog.

Light to import; the heavy work lives in ``indexer`` (a run and its phases, writing the catalog) and ``analyse``
(the per-file work that runs on worker threads or processes).
"""
