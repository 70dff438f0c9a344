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
        "--ray",
        metavar="auto|ADDRESS",
        default=None,
        help="score on a Ray cluster: prepare on its CPU workers, score on its GPUs (one model per GPU); 'auto' "
        "joins $RAY_ADDRESS or a head started here with 'ray start --head', else starts a local cluster; "
        "ADDRESS (HOST:PORT) joins that head (needs the 'studio' extra)",
    )
    parser.add_argument(
        "--ray-actors",
        type=int,
        default=None,
        metavar="N",
        help="with --ray: how many models to load (default: one per GPU; one per machine without GPUs)",
    )
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
    from artimuse_desktop.scoring.pipeline import ScoringProgress, run_scoring

    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    catalog = open_catalog(catalog_path(args))
    if args.ray is not None:
        return _run_on_ray(args, catalog)
    backend = load_backend(args.model, args.device, args.quantize, args.experimental_attribute_scores, dtype=args.dtype)
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
    return _print_summary(catalog, summary)


def _print_summary(catalog: Any, summary: Any, where: str = "") -> int:
    """The closing lines, the same for a local run and a run on Ray; the exit status."""
    from artimuse_desktop.catalog import queries
    from artimuse_desktop.formatting import format_duration

    if summary.total == 0:
        print(f"Nothing to score: every photo has a current score from {summary.model}.")
        return 0
    state = "stopped early" if summary.cancelled else "done"
    print(
        f"Scoring {state}: {summary.scored} scored, {summary.failed} failed of {summary.total} "
        f"in {format_duration(summary.elapsed_s)} ({summary.rate:.1f} photos/s) with {summary.model} "
        f"{summary.version}{where}."
    )
    for path, reason in summary.failures:
        print(f"  failed: {path}: {reason}")
    with catalog.read() as session:
        if queries.get_score_model(session) != summary.model:
            print(
                f"Note: 'Score' in this catalog shows {queries.get_score_model(session)}; "
                f"run with --use to show {summary.model} instead."
            )
    return 130 if summary.cancelled else 0


def _run_on_ray(args: argparse.Namespace, catalog: Any) -> int:
    """``--ray``: the same selection, store and progress line, with prepare and scoring on the cluster."""
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog import queries
    from artimuse_desktop.commands.progress import ProgressLine
    from artimuse_desktop.scoring.cluster.connect import connect
    from artimuse_desktop.scoring.cluster.driver import RayScoringRun
    from artimuse_desktop.scoring.cluster.workers import BackendSpec, build_backend
    from artimuse_desktop.scoring.pipeline import ScoringProgress

    spec = BackendSpec(args.model, args.device, args.quantize, args.experimental_attribute_scores)
    name = build_backend(spec, load=False).name  # an unknown or unavailable model fails here, before Ray starts
    connection = connect(args.ray)
    if args.use:
        with catalog.write() as session:
            queries.set_score_model(session, name)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = ProgressLine(f"scoring ({name}, Ray)")

    def on_progress(p: ScoringProgress) -> None:
        bar.update(p.done, p.total, p.rate, p.eta_s, p.current)

    run = RayScoringRun(
        catalog,
        spec,
        batch_size=args.batch_size,
        rescore=args.rescore,
        retry_failed=args.retry_failed,
        actors=args.ray_actors,
        progress=on_progress,
        cancel=cancel,
    )
    try:
        summary = run.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.finish()
        connection.close()
    actors = f"{run.plan.count} actor(s)" if run.plan else "no actors"
    where = f" on the Ray cluster at {connection.address}, {actors}"
    if run.resubmitted:
        where += f"; {run.resubmitted} batch(es) sent again after an actor died"
    return _print_summary(catalog, summary, where)
