"""ArtiMuse Desktop: offline photo culling with aesthetic scores. Imports nothing heavy."""

__version__ = "0.1.0"
