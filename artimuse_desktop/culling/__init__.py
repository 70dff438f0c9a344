"""Culling: the photographer's decisions with undo/redo, and burst/duplicate grouping."""
