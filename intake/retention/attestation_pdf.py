"""The destruction attestation as a PDF (fpdf2), in French, from its manifest.

The manifest (built by `intake.retention`) is the whole truth: the PDF only lays it
out, with its SHA-256 and the audit chain's head, so that a reader can check one
against the other. Each page carries a QR code naming the attestation and that SHA-256, by
which a copy signed by hand is recognised as this attestation (`intake.retention.scan`).
The signature block sits at a fixed place on the last page;
`SIGNATURE_BOX` is where a PAdES signature's widget goes.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from intake.french import plural
from intake.pdf_fonts import FONT, use_unicode_font
from intake.retention import qr

# x1, y1, x2, y2 in PDF points from the bottom-left of an A4 page (110-195 mm across,
# 240-275 mm down), matching the box drawn by `_signature_block`.
SIGNATURE_BOX = (311.8, 62.4, 552.8, 161.6)
SIGNATURE_FIELD = "SignatureSignataire"

REASONS = {
    "conservation-6-mois": (
        "Conservation limitée à six mois à compter de la transmission des données "
        "(convention, article 2)"
    ),
    "fin-de-convention": "Fin de la convention d'habilitation : destruction de toutes les données",
}

METHOD = (
    "Chaque demande était chiffrée (AES-256-GCM) avec sa propre clé. Cette clé était elle-même "
    "chiffrée (AES-256-GCM) par la clé de sa date de fin de conservation : une clé par jour, "
    "gardée hors de la base de données, dans le magasin de clés du lieu (un fichier par jour, "
    "lisible par le seul service, chiffré par la clé maîtresse). Pour chaque demande listée, "
    "la clé propre et tous les contenus chiffrés (données saisies, XML reçu, PDF, copies "
    "refusées) ont été supprimés de la base dans une même transaction, puis les fichiers des "
    "clés de ces dates ont été supprimés du magasin. Aucune copie de la base (fichier copié, "
    "pg_dump, intake backup) ne contient ces clés : même avec la clé maîtresse, ce qu'une telle "
    "copie garde de ces demandes ne peut plus être déchiffré. La base SQLite écrase de zéros "
    "les pages des clés (secure_delete) et son journal WAL a été vidé. Seule reste une trace "
    "non personnelle : numéro, commune, dates, motif."
)


def _fr(day: str | date | None) -> str:
    if day is None:
        return "-"
    if isinstance(day, str):
        return _fr_iso(day)
    return day.strftime("%d/%m/%Y")


@lru_cache(maxsize=4096)
def _fr_iso(day: str) -> str:
    """A manifest's ISO day in French: a 100,000-demande list holds a few hundred days."""
    return date.fromisoformat(day).strftime("%d/%m/%Y")


# Room for the page count: a purge of 100,000 demandes fills some 1,500 pages, and fpdf2's
# default "{nb}" is narrower than four digits.
PAGES_ALIAS = "{pages}"


# Each page's code (`qr.mark`): top right, above the text, large enough to be read from a
# scan at 150 dpi (a module is 0.5-0.6 mm), with white around it.
CODE_X, CODE_Y, CODE_SIZE = 177.0, 6.0, 20.0
TOP_MARGIN = 30.0


class _Sheet(FPDF):
    attestation_id: int = 0
    manifest_sha256: str = ""
    code_png: bytes = b""

    def header(self) -> None:
        # The same image on every page: fpdf2 embeds it once and refers to it on each.
        self.image(io.BytesIO(self.code_png), CODE_X, CODE_Y, CODE_SIZE, CODE_SIZE)
        if self.page_no() == 1:  # said once: a caption on 1,500 pages costs a second
            self.set_font(FONT, size=6)
            self.set_text_color(90)
            self.set_xy(CODE_X - 62, CODE_Y + CODE_SIZE - 6)
            self.multi_cell(
                60,
                3,
                f"Code de l'attestation n° {self.attestation_id} :\nchaque page signée le porte.",
                align="R",
            )
            self.set_text_color(0)
        self.set_xy(self.l_margin, TOP_MARGIN)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            f"Attestation n° {self.attestation_id} - manifeste SHA-256 {self.manifest_sha256} - "
            f"page {self.page_no()}/{PAGES_ALIAS}",
            align="C",
        )
        self.set_text_color(0)


def render(
    manifest: Mapping[str, Any],
    manifest_sha256: str,
    signatories: Sequence[Mapping[str, str]],
    drafted_at: datetime,
) -> bytes:
    pdf = _Sheet(format="A4", unit="mm")
    use_unicode_font(pdf)
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.attestation_id = int(manifest["attestation"])
    pdf.manifest_sha256 = manifest_sha256
    pdf.code_png = qr.mark(pdf.attestation_id, manifest_sha256)
    pdf.set_title(f"Attestation de destruction n° {manifest['attestation']}")
    pdf.set_author(manifest["lieu"]["nom"])
    pdf.set_creator("monenfant-intake")
    pdf.set_creation_date(drafted_at)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(15, TOP_MARGIN, 15)
    pdf.add_page()
    _heading(pdf, manifest, drafted_at)
    _communes(pdf, manifest)
    _proofs(pdf, manifest, manifest_sha256)
    _copies(pdf, manifest.get("copies", []))
    _method(pdf, manifest)
    _items(pdf, manifest["demandes"])
    _signature_block(pdf, manifest, signatories)
    # The last page's code says it is the signature page (drawn over the ordinary one).
    last = qr.mark(pdf.attestation_id, manifest_sha256, signature_page=True)
    pdf.image(io.BytesIO(last), CODE_X, CODE_Y, CODE_SIZE, CODE_SIZE)
    return bytes(pdf.output())


def _paragraph(pdf: FPDF, text: str, size: float = 10, style: str = "") -> None:
    pdf.set_font(FONT, style=style, size=size)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)


def _heading(pdf: FPDF, manifest: Mapping[str, Any], drafted_at: datetime) -> None:
    lieu = manifest["lieu"]
    _paragraph(pdf, "Attestation de destruction de données à caractère personnel", 15, "B")
    _paragraph(pdf, f"N° {manifest['attestation']} - mon-enfant.fr, convention d'habilitation", 11)
    pdf.ln(2)
    _paragraph(
        pdf,
        f"Lieu d'information : {lieu['nom']} (identifiant {lieu['id']}), convention "
        f"d'habilitation signée le {_fr(manifest['convention']['signee_le'])}.",
    )
    _paragraph(pdf, f"Motif : {REASONS.get(manifest['motif'], manifest['motif'])}.")
    period = manifest["periode"]
    _paragraph(
        pdf,
        f"Données concernées : {plural(len(manifest['demandes']), 'demande')} dont la date "
        f"limite de conservation va du {_fr(period['premiere_echeance'])} au "
        f"{_fr(period['derniere_echeance'])} ; {_destroyed_on(period)}. "
        f"Attestation établie le {drafted_at:%d/%m/%Y à %H:%M} ; "
        f"à signer au plus tard le {_fr(manifest['signer_avant'])}.",
    )


def _destroyed_on(period: Mapping[str, str]) -> str:
    first, last = period["destruction_debut"], period["destruction_fin"]
    if first == last:
        return f"détruites le {_fr(first)}"
    return f"détruites entre le {_fr(first)} et le {_fr(last)}"


def _communes(pdf: FPDF, manifest: Mapping[str, Any]) -> None:
    counts = Counter(item["commune"] for item in manifest["demandes"])
    names: Mapping[str, str] = manifest["communes"]
    _paragraph(pdf, "Demandes détruites par commune", 11, "B")
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=(70, 30, 40), width=140, align="LEFT", line_height=5) as table:
        table.row(["Commune", "Code INSEE", "Demandes détruites"])
        for insee in sorted(counts):
            table.row([names.get(insee, insee), insee, str(counts[insee])])
        table.row(["Total", "", str(sum(counts.values()))])
    pdf.ln(3)


def _plain_method(manifest: Mapping[str, Any]) -> str:
    """What the destruction guarantees, and until when a copy of the key store may undo it."""
    keys = manifest.get("cles")
    if not keys:  # drafted before the key store: its data keys were wrapped by the master key
        return (
            "Chaque demande était gardée sous clé, avec sa propre clé. Pour chaque demande de la "
            "liste en annexe, cette clé a été détruite en même temps que tout ce qu'elle "
            "protégeait (formulaire, fichier reçu, PDF) dans la base en service. De chaque "
            "demande, il ne reste que son numéro, sa commune et ses dates. Les copies sorties "
            "du coffre (exports, PDF) sont listées ci-dessous : elles sont à détruire par ceux "
            "qui les ont faites."
        )
    days = keys["echeances_detruites"]
    span = (
        f"celle du {_fr(days[0])}"
        if len(days) == 1
        else f"{len(days)} clés, des échéances du {_fr(days[0])} au {_fr(days[-1])}"
    )
    return (
        "Chaque demande était gardée sous clé, avec sa propre clé, elle-même fermée par la clé "
        "de sa date de fin de conservation, gardée hors de la base de données. Pour chaque "
        "demande de la liste en annexe, sa clé propre et tout ce qu'elle protégeait "
        "(formulaire, fichier reçu, PDF) ont été supprimés de la base, et la clé de sa date "
        f"de fin de conservation a été détruite le {_fr(keys['detruites_le'])} ({span}). "
        f"{_backups(keys)}Une copie du magasin de clés faite avant cette "
        "destruction (intake backup --cles) peut encore exister jusqu'au "
        f"{_fr(keys['copies_magasin_jusqu_au'])} au plus tard, durée au-delà de laquelle "
        "ces copies doivent être détruites. De chaque demande, il ne reste que son numéro, sa "
        "commune et ses dates. Les copies sorties du coffre (exports, PDF) sont listées "
        "ci-dessous : elles sont à détruire par ceux qui les ont faites."
    )


def _backups(keys: Mapping[str, Any]) -> str:
    """What database backups can no longer open: all of them, unless some demandes were stored
    before this database's keys moved to the key store (their older backups still can)."""
    since = keys.get("cle_maitresse_jusqu_au")
    if not since:
        return (
            "Les sauvegardes de la base ne contiennent pas ces clés : aucune, ancienne ou "
            "future, ne permet de relire ces demandes. "
        )
    return (
        f"Les sauvegardes de la base faites depuis le {_fr(since)} (mise en place du magasin "
        "de clés) ne contiennent pas ces clés et ne permettent pas de relire ces demandes. "
        "Une sauvegarde plus ancienne garde encore la clé de certaines d'entre elles, fermée "
        "par la clé maîtresse : elle doit être détruite, ou la clé maîtresse changée (intake "
        "vault rotate) et l'ancienne détruite. "
    )


def _proofs(pdf: FPDF, manifest: Mapping[str, Any], manifest_sha256: str) -> None:
    _paragraph(pdf, "Comment les données ont été détruites", 11, "B")
    _paragraph(pdf, _plain_method(manifest), 10)
    _paragraph(pdf, "Preuves", 11, "B")
    audit = manifest["journal_audit"]
    _paragraph(
        pdf,
        "Empreinte SHA-256 du manifeste (la liste de l'annexe 2, conservée en base au format "
        "JSON) : "
        f"{manifest_sha256}. Tête de la chaîne du journal d'audit au moment de l'attestation : "
        f"événement n° {audit['sequence']}, lien HMAC-SHA-256 {audit['empreinte']} (ancre "
        "consignée aussi hors de la base, dans audit-anchors.log). « intake audit verify » "
        "vérifie la chaîne et qu'elle prolonge cette ancre.",
        9,
    )


def _copies(pdf: FPDF, copies: Sequence[Mapping[str, str]]) -> None:
    """What left the vault is not destroyed by the purge: the signatory confirms it."""
    _paragraph(pdf, "Copies sorties du coffre", 11, "B")
    if not copies:
        _paragraph(
            pdf,
            "Aucune copie de ces demandes n'a été exportée ni téléchargée (registre des "
            "exports, tenu par le journal d'audit).",
            9,
        )
        return
    people = sorted({c["par"] for c in copies})
    _paragraph(
        pdf,
        f"Le registre des exports compte {plural(len(copies), 'copie')} de ces demandes "
        f"{'sorties' if len(copies) > 1 else 'sortie'} du coffre (exports, PDF), par : "
        f"{', '.join(people)}. Elles ne "
        "sont pas détruites par la purge : en signant, le signataire confirme que ces copies "
        "ont été détruites elles aussi. Détail :",
        9,
    )
    pdf.set_font(FONT, size=8)
    for copy in copies[:200]:
        line = f"{copy['numero']} — {copy['nature']} le {_fr(copy['le'])} par {copy['par']}"
        pdf.cell(0, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if len(copies) > 200:
        _paragraph(pdf, f"… et {len(copies) - 200} autres (liste complète : manifeste).", 8)
    pdf.ln(2)


def _method(pdf: FPDF, manifest: Mapping[str, Any]) -> None:
    _paragraph(pdf, "Annexe 1 : méthode technique", 11, "B")
    since = (manifest.get("cles") or {}).get("cle_maitresse_jusqu_au")
    caveat = (
        f" Exception : avant le {_fr(since)}, la clé propre de certaines de ces demandes était "
        "chiffrée par la clé maîtresse elle-même ; une copie de la base antérieure à cette date "
        "la garde encore ainsi."
        if since
        else ""
    )
    _paragraph(pdf, METHOD + caveat, 9)


# The signature block fills 225-280 mm of the last page; this many rows at least go with it,
# so that it is never alone on a page.
SIGNATURE_TOP = 222
KEEP_WITH_SIGNATURE = 3


def _items(pdf: FPDF, items: Sequence[Mapping[str, Any]]) -> None:
    _paragraph(pdf, "Annexe 2 : liste des demandes détruites", 11, "B")
    headers = ("Numéro", "Commune", "Transmise le", "Conservation jusqu'au", "Détruite le")
    rows = [
        (
            item["numero"],
            item["commune"],
            _fr(item["transmise"]),
            _fr(item["echeance"]),
            _fr(item["detruite"]),
        )
        for item in items
    ]
    # One `text` per row, its columns padded with spaces: a purge may list 100,000 demandes,
    # and each call costs more than its characters. Every value of a column has the same
    # format (numero, INSEE code, dates), and DejaVu's digits all have the same width, so
    # the columns stay aligned under their headers.
    pdf.set_font(FONT, size=8)
    space = pdf.get_string_width(" ")
    sample = rows[0] if rows else headers
    pads: list[int] = []
    for header_text, value in zip(headers, sample, strict=True):
        pdf.set_font(FONT, style="B", size=8)
        wanted = pdf.get_string_width(header_text) + 4 * space
        pdf.set_font(FONT, size=8)
        pads.append(max(4, round((wanted - pdf.get_string_width(value)) / space)))
    starts = [pdf.l_margin]
    for value, pad in zip(sample[:-1], pads[:-1], strict=True):
        starts.append(starts[-1] + pdf.get_string_width(value) + pad * space)

    def header() -> None:
        pdf.set_font(FONT, style="B", size=8)
        y = pdf.get_y() + 3.5
        for x, text in zip(starts, headers, strict=True):
            pdf.text(x, y, text)
        pdf.line(pdf.l_margin, y + 1.3, pdf.w - pdf.r_margin, y + 1.3)
        pdf.set_y(pdf.get_y() + 5)
        pdf.set_font(FONT, size=8)

    header()
    line, baseline = 4.2, 3.0
    for index, row in enumerate(rows):
        remaining = len(rows) - index
        last_ones_overflow = (
            remaining <= KEEP_WITH_SIGNATURE and pdf.get_y() + remaining * line > SIGNATURE_TOP
        )
        if pdf.will_page_break(line) or last_ones_overflow:
            pdf.add_page()
            header()
        text = "".join(value + " " * pad for value, pad in zip(row, pads, strict=True))
        pdf.text(pdf.l_margin, pdf.get_y() + baseline, text.rstrip())
        pdf.set_y(pdf.get_y() + line)


def _signature_block(
    pdf: FPDF, manifest: Mapping[str, Any], signatories: Sequence[Mapping[str, str]]
) -> None:
    # The block lives at 225-280 mm of the last page, where the last rows of the list left
    # room for it (`_items`).
    if pdf.get_y() > SIGNATURE_TOP:
        pdf.add_page()
    pdf.set_y(225)
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(0, 5, "Signature d'une personne habilitée (signataire)")
    pdf.ln(6)
    pdf.set_font(FONT, size=8)
    names = "; ".join(f"{s['name']} ({s['function']})" for s in signatories) or "-"
    pdf.set_x(15)
    pdf.multi_cell(
        90,
        4,
        f"J'atteste que les données ci-dessus ont été détruites. Signataires habilités : "
        f"{names}.\n\nFait à ....................., le ..../..../........\n\n"
        "Nom, fonction :",
    )
    pdf.rect(110, 240, 85, 35)
    pdf.set_xy(110, 236)
    pdf.set_font(FONT, size=7)
    pdf.cell(85, 4, "Signature (manuscrite ou électronique)")
