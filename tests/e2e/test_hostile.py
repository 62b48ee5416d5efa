"""Hostile documents through the real command: refused whole, nothing read, nothing fetched."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.e2e.conftest import LAUNCHER, Intake
from tests.support.feeds import Dem, feed_xml, numero, write_feed

CANARY = "CANARI-XXE-7f3a91"


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b'<!ENTITY % x "y">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _with_doctype(doctype: str, body_entity: str = "") -> str:
    xml = feed_xml([Dem(numero(1), commentaire="COMMENT")])
    xml = xml.replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n',
    )
    return xml.replace("COMMENT", body_entity) if body_entity else xml


def hostile_documents(canary: Path, url: str) -> dict[str, str]:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "xxe": _with_doctype(
            f'<!DOCTYPE fluxDemandes [<!ENTITY x SYSTEM "file://{canary}">]>', "&x;"
        ),
        "billion-laughs": _with_doctype(
            f'<!DOCTYPE fluxDemandes [<!ENTITY l0 "ha">{laughs}]>', "&l9;"
        ),
        "remote-dtd": _with_doctype(f'<!DOCTYPE fluxDemandes SYSTEM "{url}/flux.dtd">'),
        "parameter-entity": _with_doctype(
            f'<!DOCTYPE fluxDemandes [<!ENTITY % r SYSTEM "{url}/r.dtd"> %r;]>'
        ),
        "xinclude": feed_xml([Dem(numero(1), commentaire="X")]).replace(
            "<commentaire>X</commentaire>",
            f'<commentaire><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
            f'href="file://{canary}" parse="text"/></commentaire>',
        ),
        "schema-location": feed_xml([Dem(numero(1))]).replace(
            'version="1.0" genereLe=',
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="urn:monenfant-intake:flux-demandes:1 {url}/evil.xsd" '
            'version="1.0" genereLe=',
        ),
        "bad-namespace-uri": feed_xml([Dem(numero(1))]).replace(
            'version="1.0" genereLe=',
            'xmlns:x="2026-11-20T06:00:00+01:00" x:a="1" version="1.0" genereLe=',
        ),
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("xxe", "xml-dangereux"),
        ("billion-laughs", "xml-dangereux"),
        ("remote-dtd", "xml-dangereux"),
        ("parameter-entity", "xml-dangereux"),
        ("xinclude", "schema-invalide"),
        ("schema-location", None),
        ("bad-namespace-uri", "schema-invalide"),
    ],
)
def test_hostile_documents(initialised: Intake, tmp_path: Path, listener: str, name, code):
    canary = tmp_path / "secret.txt"
    canary.write_text(CANARY)
    folder = tmp_path / "depot"
    folder.mkdir()
    path = folder / f"{name}.xml"
    path.write_text(hostile_documents(canary, listener)[name], encoding="utf-8")
    (folder / f"{numero(1)}.pdf").write_bytes(Dem(numero(1)).pdf)
    run = initialised("ingest", str(path))
    if code is None:  # harmless once nothing is fetched: an ordinary valid demande
        assert run.code == 0, run.out
    else:
        assert run.code == 1 and f"[{code}]" in run.out, run.out
    assert _Recorder.hits == []
    assert CANARY not in run.out + run.err
    for db_file in (initialised.folder / "data").glob("intake.db*"):
        assert CANARY.encode() not in db_file.read_bytes()


def _peak_rss_kib(intake: Intake, *args: str) -> int:
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), *args],
        cwd=intake.folder,
        env=intake.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read() if process.stderr else ""
    return usage.ru_maxrss


def test_a_large_feed_is_streamed_in_bounded_memory(initialised: Intake, tmp_path: Path):
    """About 60 MB of feed: the same demande again and again (held after the first), with the
    longest comment allowed. Memory must not grow with the size of the document."""
    demande = Dem(numero(1), commentaire="Accueil souhaité à temps partiel, 🧸 " * 50)
    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / f"{numero(1)}.pdf").write_bytes(demande.pdf)
    small, large = folder / "small.xml", folder / "large.xml"
    small.write_text(feed_xml([demande] * 200), encoding="utf-8")
    head, tail = feed_xml([]).split("</fluxDemandes>")
    with large.open("w", encoding="utf-8") as stream:
        stream.write(head.rstrip("\n"))
        block = demande.xml() * 500
        for _ in range(36):
            stream.write(block)
        stream.write("</fluxDemandes>" + tail)
    assert large.stat().st_size > 50_000_000
    baseline = _peak_rss_kib(initialised, "ingest", str(small))
    peak = _peak_rss_kib(initialised, "ingest", str(large))
    assert peak - baseline < 40 * 1024, (baseline, peak)


def test_a_folder_of_links_tubes_and_climbing_names(initialised: Intake, tmp_path: Path):
    """`intake ingest FOLDER` reads regular files only: a link is refused unread (its target
    neither read nor changed), a FIFO never blocks the command, a PDF name out of the folder
    is refused (issue 21, item 1)."""
    secret = tmp_path / "master.key"
    secret.write_bytes(CANARY.encode() * 1000)
    secret.chmod(0o640)
    folder = tmp_path / "depot"
    write_feed(folder, [Dem(numero(1))], name="a-lien-pdf.xml")
    (folder / f"{numero(1)}.pdf").unlink()
    (folder / f"{numero(1)}.pdf").symlink_to(secret)
    elsewhere = write_feed(tmp_path / "ailleurs", [Dem(numero(2))])
    (folder / "b-lien.xml").symlink_to(elsewhere)
    os.mkfifo(folder / "c-tube.xml")
    climbing = feed_xml([Dem(numero(3))]).replace(f'nom="{numero(3)}.pdf"', 'nom="../x.pdf"')
    (folder / "d-evasion.xml").write_text(climbing, encoding="utf-8")
    (tmp_path / "x.pdf").write_bytes(Dem(numero(3)).pdf or b"")

    done = subprocess.run(
        [sys.executable, str(LAUNCHER), "ingest", str(folder)],
        cwd=initialised.folder,
        env=initialised.env,
        capture_output=True,
        text=True,
        timeout=120,  # a bound on a hang (a FIFO opened for reading), not on speed
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert f"{numero(1)}" in out and "[pdf-invalide]" in out and "lien symbolique" in out
    assert "b-lien.xml : refusé" in out and "c-tube.xml : refusé" in out, out
    assert "fichier ordinaire" in out and numero(2) not in out
    assert f"{numero(3)}" in out and "[schema-invalide]" in out
    assert "Bilan : 0 intégrée(s)" in out
    assert secret.read_bytes() == CANARY.encode() * 1000
    assert secret.stat().st_mode & 0o777 == 0o640
    assert CANARY not in out + done.stderr
