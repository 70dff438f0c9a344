"""``artimuse-desktop models``: list backends and installed models, add, remove, download, set the default.

Imported by the CLI at start-up, so it stays light: everything (store, conversion, the Hub client) is imported
inside the command functions, and nothing here ever imports torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list, add, download or remove scoring models",
        description="Manage scoring models: the built-in analyzer and installed ArtiMuse checkpoints.",
    )
    parser.set_defaults(func=_help(parser))
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")

    p_list = sub.add_parser("list", help="all scoring backends with availability, and the installed models")
    p_list.set_defaults(func=cmd_list)

    p_add = sub.add_parser(
        "add",
        help="validate, convert and install a checkpoint folder (original ArtiMuse or native layout)",
        description="Validate a checkpoint folder, convert it to the native safetensors layout in the model "
        "store and register it. Pickled weights (.bin, .pt) are refused.",
    )
    p_add.add_argument("path", help="checkpoint folder with config.json, *.safetensors and tokenizer files")
    p_add.add_argument("--name", help="name in the store (default: the folder name)")
    p_add.add_argument("--default", action="store_true", help="make it the default ArtiMuse model")
    p_add.set_defaults(func=cmd_add)

    p_remove = sub.add_parser("remove", help="delete an installed model from the store")
    p_remove.add_argument("name")
    p_remove.set_defaults(func=cmd_remove)

    p_default = sub.add_parser("default", help="make an installed model the default one")
    p_default.add_argument("name")
    p_default.set_defaults(func=cmd_default)

    p_download = sub.add_parser(
        "download",
        help="download a checkpoint from the Hugging Face Hub and install it (needs internet)",
        description="Download REPO_ID (safetensors weights, configs and tokenizer only; resumes an "
        "interrupted download), convert it into the model store and register it.",
    )
    p_download.add_argument("repo_id", help="e.g. Thunderbolt215215/ArtiMuse")
    p_download.add_argument("--name", help="name in the store (default: the repository name)")
    p_download.add_argument("--revision", help="branch, tag or commit (default: main)")
    p_download.add_argument("--default", action="store_true", help="make it the default ArtiMuse model")
    p_download.add_argument(
        "--keep-download", action="store_true", help="keep the downloaded original files after conversion"
    )
    p_download.set_defaults(func=cmd_download)


def _help(parser: argparse.ArgumentParser) -> Any:
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    return show


def _size(nbytes: int) -> str:
    if nbytes >= 1e9:
        return f"{nbytes / 1e9:.1f} GB"
    if nbytes >= 1e6:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{nbytes / 1e3:.0f} kB"


class _Progress:
    """A one-line percentage on stderr for the conversion, throttled so it costs nothing."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.5:
            return
        self.last = now
        if sys.stderr.isatty() or done >= total:
            end = "\n" if done >= total else ""
            print(
                f"\r{self.label}: {100 * done / max(total, 1):5.1f}% of {_size(total)}",
                end=end,
                file=sys.stderr,
            )
            self.shown = True


def cmd_list(args: argparse.Namespace) -> int:
    from artimuse_desktop import paths
    from artimuse_desktop.scoring import registry
    from artimuse_desktop.scoring.artimuse import store

    print("Scoring backends:")
    for info in registry.list_backends():
        mark = "yes" if info.available else "no "
        flag = " [experimental]" if info.experimental else ""
        print(f"  {info.name:<24} available: {mark}  {info.reason}{flag}")
        print(f"  {'':<24} {info.description}")
    entries = store.list_models()
    print(f"\nInstalled ArtiMuse models ({paths.models_dir()}):")
    if not entries:
        print("  none (artimuse-desktop models download Thunderbolt215215/ArtiMuse, or models add PATH)")
    for entry in entries:
        default = " (default)" if entry.default else ""
        problem = store.check_installed(entry)
        print(f"  {entry.name}{default}")
        print(f"    size {_size(entry.size)}, sha256 {entry.checksum}, layout at source {entry.layout}")
        print(f"    added {entry.added_at} from {entry.source}")
        if problem:
            print(f"    PROBLEM: {problem}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from artimuse_desktop.scoring.artimuse import store

    started = time.monotonic()
    entry = store.add_model(
        args.path, name=args.name, make_default=args.default, progress=_Progress("converting weights")
    )
    _report_added(entry, time.monotonic() - started)
    return 0


def _report_added(entry: Any, seconds: float) -> None:
    default = ", default model" if entry.default else ""
    print(f"installed {entry.name} ({_size(entry.size)}, sha256 {entry.checksum[:16]}…{default}) in {seconds:.1f} s")
    print(f"use it with --model artimuse:{entry.name}" + (" or --model artimuse" if entry.default else ""))


def cmd_remove(args: argparse.Namespace) -> int:
    from artimuse_desktop.scoring.artimuse import store

    entry = store.remove_model(args.name)
    print(f"removed {entry.name} ({_size(entry.size)} freed)")
    remaining = store.default_model()
    if entry.default and remaining is not None:
        print(f"default model is now {remaining.name}")
    return 0


def cmd_default(args: argparse.Namespace) -> int:
    from artimuse_desktop.scoring.artimuse import store

    entry = store.set_default(args.name)
    print(f"default ArtiMuse model: {entry.name}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from artimuse_desktop.scoring.artimuse import download, store

    repo_id = download.validate_repo_id(args.repo_id)
    name = store.validate_name(args.name or store.default_name_for(repo_id))
    if any(e.name == name for e in store.list_models()):
        from artimuse_desktop.errors import ModelError

        raise ModelError(
            f"a model named {name!r} is already installed",
            hint=f"pick another --name, or remove it first: `artimuse-desktop models remove {name}`",
        )
    print(f"downloading {repo_id} (resumes if interrupted)…", file=sys.stderr)
    folder = download.download(repo_id, revision=args.revision)
    started = time.monotonic()
    label = f"{repo_id}@{args.revision}" if args.revision else repo_id
    entry = store.add_model(
        folder,
        name=name,
        make_default=args.default,
        progress=_Progress("converting weights"),
        source_label=label,
    )
    if not args.keep_download:
        download.discard(repo_id)
    _report_added(entry, time.monotonic() - started)
    return 0
