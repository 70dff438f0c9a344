"""``artimuse-desktop score``: score every photo that needs it with one model, with a progress bar."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from artimuse_desktop.commands.model_options import add_model_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score the photos in the catalog",
        description="Score every photo that has no score from this model yet (or whose content or the model "
        "changed). Interrupt with Ctrl+C at any time: the next run continues where this one stopped.",
    )
    add_model_options(parser, default_model="technical")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="photos per model call (default: 8)")
    parser.add_argument("--rescore", action="store_true", help="score again photos that already have a score")
    parser.add_argument("--retry-failed", action="store_true", help="try again photos that failed before")
    parser.add_argument(
        "--use", action="store_true", help="make this model the one that drives 'Score' in this catalog"
    )
    parser.add_argument("--workers", type=int, default=None, help="threads decoding ahead of the model")
    parser.add_argument(
        "--experimental-attribute-scores",
        action="store_true",
        help="ArtiMuse: also score the 8 attributes through the score head (EXPERIMENTAL: the released "
        "checkpoints are trained for the holistic score only; the holistic score is unchanged)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog import open_catalog, queries
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.commands.model_options import load_backend
    from artimuse_desktop.commands.progress import ProgressLine
    from artimuse_desktop.formatting import format_duration
    from artimuse_desktop.scoring.pipeline import ScoringProgress, run_scoring

    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    catalog = open_catalog(catalog_path(args))
    backend = load_backend(args.model, args.device, args.quantize, args.experimental_attribute_scores)
    if args.use:
        with catalog.write() as session:
            queries.set_score_model(session, backend.name)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = ProgressLine(f"scoring ({backend.name})")

    def on_progress(p: ScoringProgress) -> None:
        bar.update(p.done, p.total, p.rate, p.eta_s, p.current)

    try:
        summary = run_scoring(
            catalog,
            backend,
            batch_size=args.batch_size,
            rescore=args.rescore,
            retry_failed=args.retry_failed,
            progress=on_progress,
            cancel=cancel,
            prefetch_workers=args.workers,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.finish()
        backend.unload()
    if summary.total == 0:
        print(f"Nothing to score: every photo has a current score from {backend.name}.")
        return 0
    state = "stopped early" if summary.cancelled else "done"
    print(
        f"Scoring {state}: {summary.scored} scored, {summary.failed} failed of {summary.total} "
        f"in {format_duration(summary.elapsed_s)} ({summary.rate:.1f} photos/s) with {backend.name} {backend.version}."
    )
    for path, reason in summary.failures:
        print(f"  failed: {path}: {reason}")
    with catalog.read() as session:
        if queries.get_score_model(session) != backend.name:
            print(
                f"Note: 'Score' in this catalog shows {queries.get_score_model(session)}; "
                f"run with --use to show {backend.name} instead."
            )
    return 130 if summary.cancelled else 0
