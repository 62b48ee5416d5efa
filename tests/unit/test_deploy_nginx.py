"""The nginx example of deploy/ refuses bodies at the console's own limits: any higher, the
console would cut the connection mid-upload and nginx would show a 502."""

from __future__ import annotations

import re
from pathlib import Path

from intake.web.guards import FORM_LIMIT, MAX_UPLOAD, UPLOAD_ROUTES

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-intake.conf"
UNITS = {"k": 1024, "m": 1024 * 1024}


def limits() -> dict[str, int]:
    """client_max_body_size per location ("" for the server's own)."""
    found: dict[str, int] = {}
    location = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if opened := re.match(r'location\s+(?:~\s+)?(?:"([^"]+)"|(\S+))\s*\{', line):
            location = opened.group(1) or opened.group(2)
        elif line == "}":
            location = ""
        elif size := re.match(r"client_max_body_size\s+(\d+)([km]);", line):
            found[location] = int(size.group(1)) * UNITS[size.group(2)]
    return found


def test_the_nginx_limits_are_the_consoles():
    found = limits()
    assert found[""] == FORM_LIMIT
    (upload_location,) = [where for where in found if where]
    assert found[upload_location] == MAX_UPLOAD
    pattern = re.compile(upload_location)
    assert pattern.search("/attestations/12/signature") and pattern.search("/attestations/3/scan")
    assert not pattern.search("/attestations/12/pdf")
    assert UPLOAD_ROUTES.fullmatch("/attestations/12/signature")


def test_the_example_forwards_the_https_headers():
    text = EXAMPLE.read_text(encoding="utf-8")
    for header in ("Host $host", "X-Forwarded-For", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header}" in text
    assert "Strict-Transport-Security" in text and "return 301 https://" in text
