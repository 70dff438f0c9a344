"""Sub-commands of the command line; each module exposes ``register(subparsers)``."""
