"""Typed errors that carry a message for the photographer and a hint for what to do next.

Every failure a user can meet (a corrupt file, a missing model, a catalog from a newer version) is raised as one
of these, so the command line and the GUI show the same readable text instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ArtiMuseError(Exception):
    """Base class: ``message`` says what happened, ``hint`` what the user can do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class CatalogError(ArtiMuseError):
    """The catalog file cannot be opened or used."""


class CatalogTooNewError(CatalogError):
    """The catalog was written by a newer ArtiMuse Desktop; it is refused and never altered."""


class PhotoError(ArtiMuseError):
    """A single photo could not be read; the scan or batch goes on without it."""

    def __init__(self, path: str | Path, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint)
        self.path = str(path)
        self.reason = reason


class DecodeError(PhotoError):
    """The file is not an image we can decode (corrupt, truncated, mislabeled, unsupported)."""


class ImageTooLargeError(DecodeError):
    """The image exceeds the decompression-bomb pixel limit."""


class ModelError(ArtiMuseError):
    """A scoring model is missing, invalid or cannot run here."""


class ModelUnavailableError(ModelError):
    """A backend cannot be used on this machine (missing packages, weights or memory)."""


class OutOfMemoryError(ModelError):
    """A batch did not fit in the device memory; the pipeline halves the batch and retries."""


class ExportError(ArtiMuseError):
    """An export could not be completed; nothing is left half-written under its final name."""


def describe_error(exc: BaseException) -> str:
    """The one way an exception becomes text for the photographer: our errors with their hint, others by type."""
    if isinstance(exc, ArtiMuseError):
        return exc.user_text()
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
