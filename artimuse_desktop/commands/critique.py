"""``artimuse-desktop critique``: expert critiques from ArtiMuse, streamed to the terminal and stored."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from artimuse_desktop.commands.model_options import add_model_options
from artimuse_desktop.settings import CRITIQUE_TOKENS_DEFAULT, CRITIQUE_TOKENS_LIMIT


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "critique",
        help="write expert critiques of photos with ArtiMuse",
        description="Generate the 8 attribute critiques for the given photos (or the top N by score), show them "
        "as they are written and store them in the catalog.",
    )
    parser.add_argument("photos", nargs="*", metavar="PHOTO", help="photo files already in the catalog")
    parser.add_argument("--top", type=int, metavar="N", help="critique the N best photos by the current score")
    parser.add_argument(
        "--attribute",
        action="append",
        default=None,
        metavar="NAME",
        help="only this attribute (repeatable), e.g. --attribute composition",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=critique_length,
        default=None,
        metavar="N",
        help=f"most tokens per critique, 1 to {CRITIQUE_TOKENS_LIMIT} (default: the critique length setting, "
        f"{CRITIQUE_TOKENS_DEFAULT} unless changed)",
    )
    add_model_options(parser, default_model="artimuse")
    parser.set_defaults(func=run)


def critique_length(text: str) -> int:
    """argparse type for --max-new-tokens: a whole number of tokens within what the authors allow."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= CRITIQUE_TOKENS_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of tokens from 1 to {CRITIQUE_TOKENS_LIMIT}")
    return value


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog import filters, open_catalog, queries
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.commands.model_options import load_backend
    from artimuse_desktop.errors import ArtiMuseError
    from artimuse_desktop.scoring.pipeline import critique_photo
    from artimuse_desktop.vocabulary import ATTRIBUTES, canonical_attribute

    if not args.photos and not args.top:
        print("error: name photos or use --top N", file=sys.stderr)
        return 2
    attributes = [canonical_attribute(a) for a in args.attribute] if args.attribute else list(ATTRIBUTES)
    catalog = open_catalog(catalog_path(args))
    ids: list[tuple[int, str]] = []
    failed = 0
    with catalog.read() as session:
        for photo in args.photos:
            photo_id = queries.photo_id_for_path(session, photo)
            if photo_id is None:
                print(f"error: {photo}: not in the catalog (index its folder first)", file=sys.stderr)
                failed += 1
            else:
                ids.append((photo_id, photo))
        if args.top:
            sort = filters.SortSpec("score", descending=True)
            for record in queries.query_photos(session, filters.PhotoFilter(scored=True), sort, limit=args.top):
                ids.append((record.id, record.path))
    if not ids:
        return 1
    backend = load_backend(args.model, args.device, args.quantize, dtype=args.dtype, max_new_tokens=args.max_new_tokens)
    cancel = CancelToken()
    interactive = sys.stderr.isatty()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        for photo_id, label in ids:
            if cancel.cancelled:
                break
            print(f"\n== {label}")
            tokens = [0]

            def on_token(attribute: str, fragment: str, _tokens: list[int] = tokens) -> None:
                # All attributes are written together in one batch; show how far along they are.
                _tokens[0] += 1
                if interactive and _tokens[0] % 8 == 0:
                    print(
                        f"\r\x1b[2K  writing {len(attributes)} critiques: {_tokens[0]} tokens", end="", file=sys.stderr
                    )

            try:
                texts = critique_photo(catalog, backend, photo_id, attributes, on_token=on_token, cancel=cancel)
            except ArtiMuseError as exc:
                print(f"error: {exc.user_text()}", file=sys.stderr)
                failed += 1
                continue
            if interactive and tokens[0] >= 8:
                print(file=sys.stderr)
            for attribute in attributes:
                if attribute in texts:
                    print(f"-- {attribute}\n{texts[attribute]}")
    finally:
        signal.signal(signal.SIGINT, previous)
        backend.unload()
    if cancel.cancelled:
        print("interrupted: the critique in progress was not stored", file=sys.stderr)
        return 130
    return 1 if failed else 0
