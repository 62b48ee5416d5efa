"""`intake init`: a lieu's folder set up (`init_folder`), or with `--system` the layout of a
Debian server, as the units expect it; and `intake check-config`'s checks (`problems`).

/etc/intake/intake.toml (root:intake 0640) holds the configuration; /var/lib/intake (0700,
the `intake` account's) holds the database, the master key, the anchors and the drop
folder. The account itself comes from deploy/sysusers.d/intake.conf.

With `--root DIR` (an image being staged) the files go under DIR, but the configuration names
the paths as the server will see them (/var/lib/intake/...), not under DIR.
"""

from __future__ import annotations

import grp
import os
import pwd
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from intake import config as configuration
from intake.app import App
from intake.clock import Clock
from intake.errors import IntakeError
from storage.vault import generate_master_key_file


class InstallError(IntakeError):
    """Why the system layout cannot be made, in French."""


CONFIG_DIR = Path("/etc/intake")
STATE_DIR = Path("/var/lib/intake")


@dataclass(frozen=True)
class Installed:
    config: Path  # where it was written (under the root)
    state: Path
    key: Path
    database_url: str
    target_config: Path  # where the server reads it


def system_template(state: Path) -> str:
    text = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    text = text.replace(
        'url = "sqlite:///data/intake.db"', f'url = "sqlite:///{state}/data/intake.db"'
    )
    text = text.replace(
        'key_file = "secrets/master.key"', f'key_file = "{state}/secrets/master.key"'
    )
    return text.replace('# path = "depot"', f'# path = "{state}/depot"')


def init_system(root: Path, owner: str, clock: Clock) -> Installed:
    try:
        account = pwd.getpwnam(owner)
        group = grp.getgrnam(owner)
    except KeyError:
        raise InstallError(
            f"le compte système « {owner} » n'existe pas : créez-le d'abord "
            "(cp deploy/sysusers.d/intake.conf /etc/sysusers.d/ && systemd-sysusers)"
        ) from None
    if os.geteuid() != 0 and account.pw_uid != os.geteuid():
        raise InstallError("à lancer en root (sudo) : les fichiers vont au compte du service")
    config_dir, state = _under(root, CONFIG_DIR), _under(root, STATE_DIR)
    config_path, key = (
        config_dir / configuration.DEFAULT_CONFIG_NAME,
        state / "secrets" / "master.key",
    )
    existing = [p for p in (config_path, key) if p.exists()]
    if existing:
        raise InstallError("refus d'écraser : " + ", ".join(map(str, existing)) + " existe déjà")
    config_dir.mkdir(parents=True, exist_ok=True)
    _own(config_dir, 0, group.gr_gid, 0o750)
    for folder in (state, state / "data", state / "secrets", state / "depot"):
        folder.mkdir(parents=True, exist_ok=True)
        _own(folder, account.pw_uid, group.gr_gid, 0o700)
    descriptor = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(system_template(STATE_DIR))
    _own(config_path, 0, group.gr_gid, 0o640)
    generate_master_key_file(key)
    # The database is made where it lies now: the same configuration, its paths under root.
    staged = configuration.parse(system_template(state), config_path)
    App(staged, clock).vault  # noqa: B018  (creates the database, records the key's identity)
    for path in state.rglob("*"):
        _own(path, account.pw_uid, group.gr_gid, 0o700 if path.is_dir() else 0o600)
    url = tomllib.loads(system_template(STATE_DIR))["database"]["url"]  # as the server sees it
    return Installed(config_path, state, key, url, CONFIG_DIR / config_path.name)


def init_folder(folder: Path, clock: Clock) -> Installed:
    """An example configuration and a new master key in `folder`, the database made."""
    config_path = folder / configuration.DEFAULT_CONFIG_NAME
    template = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    key = folder / "secrets" / "master.key"
    existing = [p for p in (config_path, key) if p.exists()]
    if existing:
        raise InstallError("refus d'écraser : " + ", ".join(map(str, existing)) + " existe déjà")
    folder.mkdir(parents=True, exist_ok=True)
    with config_path.open("x", encoding="utf-8") as stream:
        stream.write(template)
    generate_master_key_file(key)
    config = configuration.load(config_path)
    App(config, clock).vault  # noqa: B018  (migrates, then records which key this base is for)
    return Installed(config_path, folder, key, config.database_url, config_path)


def problems(app: App, connect: bool) -> list[configuration.Problem]:
    """What keeps the configuration from serving: an example left, a secret missing, a
    commune no extranet account retrieves, a key that is not this database's, and with
    `connect` an extranet account that cannot sign in."""
    from intake.convention import coverage, deadlines
    from storage.vault import VaultError

    config = app.config
    from intake.family.service import letter_problems

    found = config.example_problems() + config.missing_secrets()
    found += letter_problems(config)
    gaps = coverage.uncovered(config, deadlines.local_date(app.clock.now(), config.timezone))
    if gaps:
        found.append(
            configuration.Problem(
                "extranet.accounts",
                "commune(s) de l'annexe 1 qu'aucun compte extranet ne récupère : "
                + ", ".join(gaps)
                + " ; ajoutez le compte d'une personne habilitée pour elle(s) "
                "([[extranet.accounts]])",
            )
        )
    try:
        app.vault  # noqa: B018  (reads the master key and checks it is this database's)
    except VaultError as exc:
        found.append(configuration.Problem("vault.key_file", str(exc)))
    if connect and not found and config.raw.extranet is not None:
        found += _extranet_sign_in_problems(app)
    return found


def _extranet_sign_in_problems(app: App) -> list[configuration.Problem]:
    from intake.sources.extranet_errors import ExtranetError

    found = []
    for poller in app.pollers():
        client = poller.connect()
        try:
            client.sign_in()
            client.sign_out()
        except ExtranetError as exc:
            found.append(
                configuration.Problem(
                    "extranet", f"{poller.account} : connexion refusée : {exc} [{exc.code}]"
                )
            )
    return found


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, uid, gid)
    path.chmod(mode)
