"""The PySide6 desktop interface. The only package that imports Qt; nothing here is imported by the CLI until
the ``gui`` command runs.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit()`` under CPython 3.11 and the process
aborts after a few hundred emits ("bool_dealloc"); pyproject.toml keeps PySide6 below 6.12 and
tests/gui/test_gui_startup.py emits thousands of signals to catch any version that does it again.
"""
