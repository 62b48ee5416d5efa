"""`intake calendar` and `intake convention annexe1`: the convention's dates and annexe 1."""

from __future__ import annotations

import argparse
from typing import TextIO

from intake.cli.common import EXIT_OK, dump_json, load_app
from intake.clock import Clock
from intake.convention import annexe1, deadlines
from intake.convention.calendar import calendar


def cmd_calendar(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    today = deadlines.local_date(clock.now(), app.config.timezone)
    items = calendar(app.engine, app.config, today)
    if args.json:
        dump_json([{"key": i.key, "day": i.day.isoformat(), "what": i.what} for i in items], out)
        return EXIT_OK
    if not items:
        print("Aucune échéance.", file=out)
    for item in items:
        print(f"{item.day:%d/%m/%Y} ({item.state(today)}) : {item.what}", file=out)
    return EXIT_OK


def cmd_annexe1(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    today = deadlines.local_date(clock.now(), app.config.timezone)
    if args.output is not None:
        args.output.write_bytes(annexe1.pdf(app.config, today))
        print(f"Annexe 1 écrite : {args.output}", file=out)
    else:
        out.write(annexe1.text(app.config, today))
    return EXIT_OK
