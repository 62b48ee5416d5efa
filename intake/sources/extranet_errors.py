"""The extranet's failures, sorted as the protocol's error table sorts them (`extranet-v1.md`),
and their French wording."""

from __future__ import annotations


class ExtranetError(Exception):
    """Any failure; `code` is the extranet's error code when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or (f"http-{status}" if status else "injoignable")
        self.status = status
        self.retry_after = retry_after


class TransientError(ExtranetError):
    """5xx, time-out, reset, truncated body, 429, 503: worth another try."""


class AccountError(ExtranetError):
    """identifiants-invalides, mot-de-passe-a-changer, compte-bloque: stop using the account."""


class CommuneRefused(ExtranetError):
    """commune-non-habilitee: the account is not habilitated for this commune."""


class UnknownDemande(ExtranetError):
    """demande-inconnue."""


class SessionExpired(ExtranetError):
    pass


ACCOUNT_CODES = frozenset({"identifiants-invalides", "mot-de-passe-a-changer", "compte-bloque"})

MESSAGES = {
    "identifiants-invalides": "identifiant ou mot de passe refusé par l'extranet",
    "mot-de-passe-a-changer": "l'extranet demande de changer le mot de passe sur le site",
    "compte-bloque": "le compte est bloqué sur l'extranet",
    "commune-non-habilitee": "le compte n'est pas habilité pour cette commune",
    "demande-inconnue": "demande inconnue de l'extranet",
    "trop-de-requetes": "l'extranet limite le nombre de requêtes",
    "maintenance": "l'extranet est en maintenance",
    "session-expiree": "session expirée",
}
