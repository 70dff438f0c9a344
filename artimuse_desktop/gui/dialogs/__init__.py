"""The window's dialogs: export, confirmations. Each opens without blocking (``open()``/``show()``), so tests drive
its widgets and the event loop keeps running."""
