"""Scoring on a Ray cluster: ``prepare`` as Ray tasks on CPU workers, ``score_batch`` on actors (one model per
GPU), results streamed back to the driver, which writes each batch through the same scoring store as the local
pipeline, so a run is resumable and its results are the same.

``connect`` finds or starts a cluster, ``workers`` holds what runs on the cluster (plain classes and functions,
made remote only when a run starts), ``plan`` sizes the actors, ``driver`` streams the batches. Nothing here
imports ray at module level: the CLI and the GUI load without it.
"""
