"""One-time notices after an action (Post/Redirect/Get), and the safe way back after signing
in again.

A notice travels in a short-lived cookie as a key of `NOTICES` and one plain argument (a
numero, an attestation's number, a colleague's address): the words are ours, never taken from
the request, so no cookie can make the console say anything else. The page that shows it
deletes the cookie: reloading shows it no more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

COOKIE = "intake_avis"
_ARGUMENT = re.compile(r"[A-Za-z0-9@._+-]{0,254}")

# key: (level, title, text); level is "succes", "attention" or "erreur".
NOTICES: dict[str, tuple[str, str, str]] = {
    "traitee": ("succes", "Demande traitée", "La demande {arg} est marquée comme traitée."),
    "suivi": ("succes", "Suivi enregistré", "Le suivi de la demande {arg} est enregistré."),
    "courriel-famille": (
        "succes",
        "Courriel envoyé",
        "Le courriel est parti à l’adresse de la famille de la demande {arg} ; il est noté au "
        "suivi.",
    ),
    "signee": (
        "succes",
        "Attestation signée",
        "L’attestation n° {arg} est signée ; elle part à la Caf avec le prochain envoi.",
    ),
    "scan": (
        "succes",
        "Copie signée enregistrée",
        "La copie signée de l’attestation n° {arg} est enregistrée.",
    ),
    "session-expiree": (
        "attention",
        "Session expirée",
        "Votre session s’est fermée après 30 minutes sans activité (ou 12 heures en tout). "
        "Reconnectez-vous : vous reviendrez à la page où vous étiez ; un formulaire envoyé "
        "n’a pas été enregistré, recommencez-le.",
    ),
    "deverrouille": (
        "succes",
        "Compte débloqué",
        "Les essais de connexion du compte {arg} ne sont plus ralentis.",
    ),
    "lien-envoye": (
        "succes",
        "Lien envoyé",
        "Un lien pour choisir un mot de passe part par courriel à {arg} ; il vaut 30 minutes, "
        "une seule fois.",
    ),
    "sessions-fermees": (
        "succes",
        "Sessions fermées",
        "Toutes les sessions ouvertes de {arg} sont fermées.",
    ),
    "mot-de-passe": (
        "succes",
        "Mot de passe enregistré",
        "Votre mot de passe est enregistré : connectez-vous avec lui.",
    ),
}


@dataclass(frozen=True)
class Notice:
    level: str
    title: str
    text: str

    @property
    def role(self) -> str:
        """An error interrupts (alert); a success or a warning is announced politely."""
        return "alert" if self.level == "erreur" else "status"


def redirect(request: Request, url: str, key: str, arg: str = "") -> Response:
    """See `url` (303), with the notice `key` shown there once."""
    assert key in NOTICES and _ARGUMENT.fullmatch(arg), key
    response = RedirectResponse(url, status_code=303)
    secure = not request.app.state.intake.config.raw.web.insecure_http
    response.set_cookie(
        COOKIE, f"{key}:{arg}", max_age=120, path="/", httponly=True, samesite="strict",
        secure=secure,
    )  # fmt: skip
    return response


def pending(request: Request) -> Notice | None:
    """The notice the previous answer left for this page, if it is one of ours."""
    key, _, arg = request.cookies.get(COOKIE, "").partition(":")
    if key not in NOTICES or not _ARGUMENT.fullmatch(arg):
        return None
    level, title, text = NOTICES[key]
    return Notice(level, title, text.format(arg=arg))


def forget(request: Request, response: Response) -> None:
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/")


def safe_next(value: str | None) -> str:
    """A path of this console to go back to after signing in, or "/": never another site
    (`//evil.example`, `https://…`, `/\\evil`), nor the sign-in pages themselves."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(("/connexion", "/deconnexion")):
        return "/"
    return value


# The page a form is on, for a POST that found its session expired.
_FORM_PAGES = (
    (re.compile(r"(/demandes/[A-Za-z0-9-]{1,20})/(traitee|suivi|courriel)"), r"\1"),
    (re.compile(r"/attestations/[0-9]{1,9}/(signature|scan)"), "/attestations"),
    (re.compile(r"/comptes/.*"), "/comptes"),
    (re.compile(r"/(export|depot)"), r"/\1"),
)


def back_to(request: Request) -> str:
    """Where signing in again leads: the page asked for (a GET, with its query), or the page
    of the form that was sent."""
    if request.method == "GET":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return safe_next(path)
    for pattern, page in _FORM_PAGES:
        if pattern.fullmatch(request.url.path):
            return safe_next(pattern.sub(page, request.url.path))
    return "/"


def sign_in_url(next_path: str) -> str:
    return "/connexion" if next_path == "/" else f"/connexion?suite={quote(next_path, safe='/')}"
