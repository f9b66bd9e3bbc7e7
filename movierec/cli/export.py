"""`movierec export`: copy new events from the event log to the warehouse."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from dataclasses import dataclass

from movierec.cli.common import command
from movierec.errors import BackendUnavailable
from movierec.settings import Settings

EXIT_UNAVAILABLE = 3


@dataclass(frozen=True)
class ExportOptions:
    page_size: int = 1000
    overlap_seconds: float = 300.0


def run_export(options: ExportOptions, settings: Settings) -> int:
    from movierec.pipelines.export import export_events
    from movierec.stores.factory import make_stores, make_warehouse

    events = make_stores(settings).events
    start = time.perf_counter()
    with closing(make_warehouse(settings)) as warehouse:
        try:
            report = export_events(
                events, warehouse, now=time.time(),
                overlap_seconds=options.overlap_seconds, page_size=options.page_size,
            )
        except BackendUnavailable as exc:
            print(
                f"movierec export: a backend is unreachable, nothing was lost: {exc}\n"
                "Run `movierec export` again once it is back; it resumes from the last stored page.",
                file=sys.stderr,
            )
            return EXIT_UNAVAILABLE
    elapsed = time.perf_counter() - start
    print(f"{'table':<12} {'scanned':>9} {'inserted':>9}  watermark (UTC)")
    for t in report.tables.values():
        mark = "-" if t.watermark is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t.watermark))
        print(f"{t.table:<12} {t.scanned:>9} {t.inserted:>9}  {mark}")
    print(f"exported {report.inserted} new rows to {warehouse.describe()} in {elapsed:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="copy new events from the event log to the warehouse")
    p.add_argument("--page-size", type=int, default=ExportOptions.page_size, help="rows read and loaded per batch")
    p.add_argument("--overlap-seconds", type=float, default=ExportOptions.overlap_seconds,
                   help="re-read this much before the watermark, to catch late writes")
    p.set_defaults(func=command(run_export, ExportOptions))
