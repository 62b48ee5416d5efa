"""Annexe 1 of the convention, as the Caf must receive it again whenever the habilitated
staff changes: the lieu, its communes, and the persons habilitated on a given day."""

from __future__ import annotations

import hashlib
from datetime import date

from intake.config import Config, StaffSection

DUTIES = {
    "recipient": "réception des demandes",
    "signatory": "signature",
    "admin": "administration",
}


def habilitated(config: Config, day: date) -> list[StaffSection]:
    return sorted(
        (
            m
            for m in config.raw.staff
            if (m.since is None or m.since <= day) and (m.until is None or m.until >= day)
        ),
        key=lambda m: m.name.casefold(),
    )


def lines(config: Config, day: date) -> list[str]:
    names = {c.insee: c.name for c in config.raw.communes}
    out = [
        f"Convention d'habilitation mon-enfant.fr — annexe 1 au {day:%d/%m/%Y}",
        f"Lieu d'information : {config.lieu.name} ({config.lieu.id}), convention signée le "
        f"{config.raw.convention.signed_on:%d/%m/%Y}",
        "Communes : " + ", ".join(f"{c.name} ({c.insee})" for c in config.raw.communes),
        "Personnes habilitées :",
    ]
    for member in habilitated(config, day):
        communes = member.communes or list(names)
        out.append(
            f"  - {member.name}"
            + (f", {member.function}" if member.function else "")
            + f" <{member.email}> : {', '.join(DUTIES.get(d, d) for d in member.duties)} ; "
            + ", ".join(f"{names.get(c, c)} ({c})" for c in communes)
            + (f" ; depuis le {member.since:%d/%m/%Y}" if member.since else "")
        )
    left = [m for m in config.raw.staff if m.until is not None and m.until < day]
    if left:
        out.append("Personnes dont l'habilitation a pris fin :")
        out += [f"  - {m.name} <{m.email}> : le {m.until:%d/%m/%Y}" for m in left]
    return out


def version(text: str) -> str:
    """What identifies a list of persons: the annexe without its first line (its date)."""
    return hashlib.sha256(text.split("\n", 1)[1].encode()).hexdigest()[:24]


def text(config: Config, day: date) -> str:
    return "\n".join(lines(config, day)) + "\n"


def pdf(config: Config, day: date) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from intake.pdf_fonts import FONT, use_unicode_font

    document = FPDF(format="A4", unit="mm")
    use_unicode_font(document)
    document.set_title(f"Annexe 1 - {config.lieu.name}")
    document.add_page()
    first, *rest = lines(config, day)
    document.set_font(FONT, style="B", size=13)
    document.multi_cell(0, 7, first, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.ln(3)
    document.set_font(FONT, size=10)
    for line in rest:
        document.multi_cell(0, 5.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.ln(10)
    document.multi_cell(
        0, 5.5, "Fait à ....................., le ..../..../........   Signature :",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    return bytes(document.output())
