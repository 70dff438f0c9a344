"""Scoring: assessment types, the backend protocol, the lazy registry and the batched pipeline.

Nothing here imports torch; heavy backends are imported by the registry only when chosen.
"""
