"""`intake purge`, `attestations`, `attestation`, `report` and `convention`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from intake import vocabulary
from intake.app import App
from intake.cli.calendar_cmd import (
    cmd_annexe1,
)
from intake.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    actor,
    dump_json,
    load_app,
)
from intake.cli.identity import authenticate
from intake.cli.printing import (
    _fr_datetime,
    _iso,
    _print_notified,
)
from intake.clock import Clock
from intake.convention import deadlines
from intake.files import open_regular
from intake.retention.attestations import Summary
from intake.retention.service import PurgeDone

PASSPHRASE_ENV = "INTAKE_PKCS12_PASSPHRASE"  # noqa: S105  (a variable name)


# --- purge, attestations, end of the convention ---------------------------------------------


def cmd_purge(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    ctx = app.context(actor(app.config, args.agent, app.clock.now()))
    if args.dry_run:
        return _print_purge_plan(app, app.purge.plan(ctx), args.json, out)
    done = app.purge.run(ctx)
    if args.json:
        outcome = done.outcome
        dump_json(
            {
                "purged": outcome.purged,
                "attestation": outcome.attestation,
                "next_purge": _iso(outcome.next_purge, app),
            },
            out,
        )
        return EXIT_OK
    _print_purge(done, out)
    if done.notified is not None:
        _print_notified(done.notified, out)
    return EXIT_OK


def _print_purge_plan(app: App, planned: list[Any], as_json: bool, out: TextIO) -> int:
    if as_json:
        dump_json(
            {
                "dry_run": True,
                "would_purge": [
                    {
                        "numero": p.numero,
                        "commune": p.commune,
                        "status": p.status,
                        "purge_due": p.purge_due.isoformat(),
                        "goes_on": p.goes_on.isoformat(),
                    }
                    for p in planned
                ],
            },
            out,
        )
        return EXIT_OK
    if not planned:
        print("Simulation : rien ne serait détruit aujourd'hui. Rien n'a été modifié.", file=out)
        return EXIT_OK
    print(f"Simulation : {len(planned)} demande(s) seraient détruites aujourd'hui :", file=out)
    for p in planned:
        print(
            f"  {p.numero} — {app.config.commune_name(p.commune)} ({p.commune}), "
            f"conservation jusqu'au {p.purge_due:%d/%m/%Y}, {vocabulary.status(p.status)}",
            file=out,
        )
    print("Rien n'a été modifié (relancez sans --dry-run pour détruire).", file=out)
    return EXIT_OK


def _print_purge(done: PurgeDone, out: TextIO) -> None:
    outcome = done.outcome
    if outcome.purged or outcome.attestation:
        line = f"{outcome.purged} demande(s) détruite(s) (clés et contenus chiffrés supprimés)"
        if outcome.attestation is not None and done.sign_by is not None:
            line += (
                f" ; attestation n° {outcome.attestation} à faire signer au plus tard le "
                f"{done.sign_by:%d/%m/%Y} (intake attestation show {outcome.attestation} "
                "-o FICHIER)"
            )
        print(line + ".", file=out)
        if outcome.caught_up:
            numbers = ", ".join(str(n) for n in outcome.caught_up)
            print(
                f"Rattrapage (service arrêté) : attestation(s) n° {numbers} pour les mois dont la "
                "destruction n'avait pas été faite.",
                file=out,
            )
    else:
        print("Rien à détruire aujourd'hui.", file=out)
    if outcome.next_purge:
        print(f"Prochaine destruction prévue le {outcome.next_purge:%d/%m/%Y}.", file=out)
    else:
        print("Aucune donnée personnelle détenue.", file=out)


_STATE_FR = {"pending": "à signer", "signed": "signée", "late": "EN RETARD"}


def cmd_attestations(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    summaries = app.attestations.listing()
    if args.json:
        dump_json([_summary_json(s) for s in summaries], out)
        return EXIT_OK
    if not summaries:
        print("Aucune attestation : rien n'a encore été détruit.", file=out)
    for s in summaries:
        print(_summary_line(s), file=out)
    return EXIT_OK


def _summary_json(s: Summary) -> dict[str, Any]:
    return {
        "id": s.id,
        "created_at": s.created_at,
        "demandes": s.demandes,
        "sign_by": s.sign_by.isoformat(),
        "state": s.state,
        "signed_by": s.signed_by,
        "signed_at": s.signed_at,
        "reason": s.reason,
        "signature": s.signature_kind,
    }


def _summary_line(s: Summary) -> str:
    line = (
        f"N° {s.id} — {s.demandes} demande(s) détruite(s), établie le "
        f"{_fr_datetime(s.created_at)}, à signer au plus tard le {s.sign_by:%d/%m/%Y} : "
        f"{_STATE_FR[s.state]}"
    )
    if s.signed_by:
        kind = "électroniquement" if s.signature_kind == "pades" else "à la main"
        line += f" {kind} par {s.signed_by} le {_fr_datetime(s.signed_at)}"
    return line


def cmd_attestation(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    attestations = app.attestations
    if args.attestation_command == "show":
        document = attestations.document(args.id)
        args.output.write_bytes(document)
        print(f"Attestation n° {args.id} écrite : {args.output}", file=out)
        return EXIT_OK
    attestations.signatory(args.signer, args.id)  # may they sign at all, before who they are
    signer = authenticate(app, args.signer, "signature-attestation").email
    if args.attestation_command == "sign":
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase is None and sys.stdin.isatty():
            passphrase = getpass.getpass("Phrase secrète du certificat : ")
        data = _read_input(args.pkcs12)
        summary = attestations.sign(args.id, signer, data, passphrase)
    else:
        summary = attestations.record_signed(args.id, signer, _read_input(args.file))
    print(_summary_line(summary) + ".", file=out)
    return EXIT_OK


def _read_input(path: Path) -> bytes:
    """A file the person names: a regular file only (never a link, a FIFO or a device)."""
    try:
        with open_regular(path) as stream:
            return stream.read()
    except OSError as exc:
        raise UsageError(f"{path} : fichier illisible ({exc.strerror})") from None


def cmd_report(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.reports import parse_month, previous_month

    app = load_app(args, clock)
    now = clock.now()
    try:
        month = (
            parse_month(args.month)
            if args.month
            else previous_month(deadlines.local_date(now, app.config.timezone))
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    pdf, csv_bytes = app.reports.make(month, now)
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"rapport-{month:%Y-%m}"
    stem.with_suffix(".pdf").write_bytes(pdf)
    stem.with_suffix(".csv").write_bytes(csv_bytes)
    print(f"Rapport de {month:%m/%Y} : {stem}.pdf et {stem}.csv", file=out)
    return EXIT_OK


def cmd_convention(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    if args.convention_command == "annexe1":
        return cmd_annexe1(args, clock, out)
    app = load_app(args, clock)
    member = app.convention.may_end(app.context(args.agent))  # before asking for a password
    if not args.yes and not sys.stdin.isatty():
        raise UsageError(
            "fin de la convention : toutes les données personnelles seraient détruites ; "
            "hors d'un terminal, confirmez avec --yes"
        )
    ctx = app.context(authenticate(app, member.email, "fin-de-convention").email)
    if not args.yes and not _confirmed():
        print("Abandon : rien n'a été modifié.", file=out)
        return EXIT_USAGE
    done = app.convention.end(ctx)
    print(f"Convention terminée le {ctx.now.astimezone(app.config.timezone):%d/%m/%Y}.", file=out)
    _print_purge(done, out)
    assert done.notified is not None
    _print_notified(done.notified, out)
    return EXIT_OK


def _confirmed() -> bool:
    answer = input(
        "Fin de la convention : toutes les données personnelles vont être détruites "
        "et plus rien ne sera reçu. Tapez FIN pour confirmer : "
    )
    return answer.strip() == "FIN"
