"""The one base of the refusals a person can act on.

An `IntakeError`'s message is French, says what was refused and why, and holds nothing
personal: the command line prints it and exits 2, the console shows it on an error page.
Storage's own refusals (a wrong master key, a database already in use) derive from
`storage.errors.StorageError`, storage knowing nothing of this package.
"""

from __future__ import annotations


class IntakeError(Exception):
    """A refusal whose message is for the person (French, nothing personal)."""
