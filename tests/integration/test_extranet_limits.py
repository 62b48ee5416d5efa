"""The extranet client against a hostile server on loopback: endless bodies, redirects that
would carry the password away, a server dripping one byte at a time, and a stop request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from intake.feed.model import DocumentPdf
from intake.sources.extranet import ExtranetClient, Limits, RetryPolicy
from intake.sources.extranet_errors import ExtranetError

ONCE = RetryPolicy(attempts=1)
TOKEN_ANSWER = b'{"jeton": "t", "expireLe": "2026-11-23T12:00:00+01:00"}'

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def hostile() -> Iterator[Callable[[dict[str, Behaviour]], str]]:
    """A loopback server answering each path as told; its URL."""
    servers: list[ThreadingHTTPServer] = []
    posted: list[bytes] = []

    def start(routes: dict[str, Behaviour]) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                posted.append(self.rfile.read(length) if length else b"")
                try:
                    routes.get(self.path, _not_found)(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = _any

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    start.posted = posted  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _not_found(handler: BaseHTTPRequestHandler) -> None:
    _answer(handler, 404, b'{"code": "demande-inconnue"}')


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _signed_in(handler: BaseHTTPRequestHandler) -> None:
    _answer(handler, 201, TOKEN_ANSWER)


def _endless(status: int) -> Behaviour:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()  # no length: the body ends when the server closes
        block = b"x" * 65536
        for _ in range(4096):  # 256 MiB at most, bounded in count
            handler.wfile.write(block)

    return answer


def _drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(100):  # one byte every 0.2 s: never silent long enough for a read time-out
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.2)


def client(url: str, **limits: float) -> ExtranetClient:
    return ExtranetClient(url, "agent@mairie.example", "secret-du-compte", policy=ONCE,
                          limits=Limits(**limits))  # fmt: skip


def test_an_endless_sign_in_answer_is_cut_at_the_small_cap(hostile):
    url = hostile({"/api/v1/session": _endless(201)})
    with pytest.raises(ExtranetError, match="illisible"):
        client(url, small_body=4096).sign_in()


def test_an_endless_error_body_is_cut_at_the_small_cap(hostile):
    url = hostile({"/api/v1/session": _signed_in, "/api/v1/communes/69273/demandes": _endless(500)})
    extranet = client(url, small_body=4096, feed_body=1 << 30)
    extranet.sign_in()
    started = time.monotonic()
    with pytest.raises(ExtranetError) as error:
        extranet.feed("69273", None)
    assert error.value.status == 500
    assert time.monotonic() - started < 5  # 4 KiB read, not 256 MiB


def test_a_feed_larger_than_its_cap_is_cut(hostile):
    url = hostile({"/api/v1/session": _signed_in, "/api/v1/communes/69273/demandes": _endless(200)})
    extranet = client(url, feed_body=100_000)
    extranet.sign_in()
    assert len(extranet.feed("69273", None).content) == 100_000


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_on_sign_in_is_an_error_and_the_password_goes_nowhere(hostile, status):
    elsewhere_hits: list[str] = []

    def elsewhere(handler: BaseHTTPRequestHandler) -> None:
        elsewhere_hits.append(handler.path)
        _signed_in(handler)

    other = hostile({"/vol": elsewhere})

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", other.replace("127.0.0.1", "localhost") + "/vol")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = hostile({"/api/v1/session": redirect})
    with pytest.raises(ExtranetError) as error:
        client(url).sign_in()
    assert error.value.code == "redirection"
    assert "localhost" in str(error.value)
    assert elsewhere_hits == []


def test_a_redirect_of_a_feed_is_refused_too(hostile):
    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "http://127.0.0.1:9/ailleurs")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = hostile({"/api/v1/session": _signed_in, "/api/v1/communes/69273/demandes": redirect})
    extranet = client(url)
    extranet.sign_in()
    with pytest.raises(ExtranetError, match=r"redirection vers 127\.0\.0\.1 refusée"):
        extranet.feed("69273", None)


def test_a_server_dripping_bytes_is_dropped_at_the_request_deadline(hostile):
    url = hostile({"/api/v1/session": _signed_in, "/api/v1/communes/69273/demandes": _drip})
    extranet = client(url, request_seconds=1.0, read_seconds=5.0)
    extranet.sign_in()
    started = time.monotonic()
    with pytest.raises(ExtranetError) as error:
        extranet.feed("69273", None)
    assert error.value.code == "delai-depasse"
    assert time.monotonic() - started < 3


def test_a_pass_deadline_bounds_every_request_inside_it(hostile):
    url = hostile({"/api/v1/session": _signed_in, "/api/v1/demandes/ME-2026-0000001/pdf": _drip})
    extranet = client(url, request_seconds=60)
    extranet.sign_in()
    document = DocumentPdf(nom="d.pdf", sha256="0" * 64, taille=1000)
    started = time.monotonic()
    with extranet.deadline(1.0), pytest.raises(ExtranetError):
        extranet.pdf("ME-2026-0000001", document)
    assert time.monotonic() - started < 3
    assert not extranet.overdue()  # outside the pass again


def test_a_stop_request_ends_a_dripping_download_at_once(hostile):
    url = hostile({"/api/v1/session": _signed_in, "/api/v1/communes/69273/demandes": _drip})
    stop = threading.Event()
    extranet = ExtranetClient(url, "agent@mairie.example", "x", policy=ONCE, stop=stop)
    extranet.sign_in()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    with pytest.raises(ExtranetError) as error:
        extranet.feed("69273", None)
    assert error.value.code == "arret"
    assert time.monotonic() - started < 2


def test_a_session_that_expires_twice_in_a_row_is_a_transient_fault(hostile):
    from intake.sources.extranet_errors import TransientError

    def expired(handler: BaseHTTPRequestHandler) -> None:
        _answer(handler, 401, b'{"code": "session-expiree"}')

    url = hostile({"/api/v1/session": _signed_in, "/api/v1/demandes/ME-2026-0000001/pdf": expired})
    extranet = client(url)
    extranet.sign_in()
    document = DocumentPdf(nom="d.pdf", sha256="0" * 64, taille=10)
    with pytest.raises(TransientError):
        extranet.pdf("ME-2026-0000001", document)
