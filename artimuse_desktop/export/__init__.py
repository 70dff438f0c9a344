"""Getting photos out: selections, safe file naming, verified copies, reports, XMP sidecars and the trash.

Nothing here ever modifies an original: sources are opened read-only, sidecars are the only files we write
beside them, and rejects go to the system trash (never a permanent delete) only after an explicit
confirmation.
Submodules are imported on demand so the command line stays light.
"""
