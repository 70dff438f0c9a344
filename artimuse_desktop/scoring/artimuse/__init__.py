"""The ArtiMuse backend (InternVL3-8B fine-tuned for aesthetics) on transformers' native InternVL classes.

Light on purpose: importing this package imports nothing heavy. ``discovery`` and ``store`` run at start-up
and, like ``convert`` (checkpoint conversion), never import torch; the model code (``model``, ``devices``,
``scorer``, ``critique``, ``backend``) imports torch inside functions.
"""
