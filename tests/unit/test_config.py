import os
from importlib import resources
from pathlib import Path

import pytest

from intake import config as configuration
from intake.config import ConfigError
from storage.vault import generate_master_key_file

TEMPLATE = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    generate_master_key_file(tmp_path / "secrets" / "master.key")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, text: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        configuration.load(write(folder, text), environ or {})
    return {p.key: p.message for p in caught.value.problems}


def test_the_template_is_valid_and_paths_are_relative_to_the_file(folder: Path):
    loaded = configuration.load(write(folder, TEMPLATE), {})
    assert loaded.commune_codes == {"69273"}
    assert loaded.key_file == folder.resolve() / "secrets" / "master.key"
    assert loaded.database_url == f"sqlite:///{folder.resolve() / 'data' / 'intake.db'}"
    assert loaded.timezone.key == "Europe/Paris"


def test_the_template_is_marked_as_an_example_until_the_mark_goes(folder: Path):
    example = configuration.load(write(folder, TEMPLATE), {})
    [problem] = example.example_problems()
    assert problem.key == "exemple" and "LI-69-0042 (CCAS de Corbas)" in problem.message
    assert "Laetitia Feuga" in problem.message and "« exemple = true »" in problem.message
    with pytest.raises(ConfigError):
        example.refuse_example()
    adapted = TEMPLATE.replace("\nexemple = true\n", "\n")
    assert adapted != TEMPLATE
    lieu = configuration.load(write(folder, adapted), {})
    assert lieu.example_problems() == [] and lieu.refuse_example() is None


def test_parse_reads_a_text_as_if_from_its_path(folder: Path):
    parsed = configuration.parse(TEMPLATE, folder / "intake.toml", {})
    assert parsed.key_file == folder.resolve() / "secrets" / "master.key"
    assert not (folder / "intake.toml").exists()


def test_every_problem_is_named_by_its_key(folder: Path):
    text = (
        TEMPLATE.replace('timezone = "Europe/Paris"', 'timezone = "Europe/Corbas"')
        .replace('insee = "69273"', 'insee = "20123"')
        .replace("retrieval_days = 15", "retrieval_days = 0\ncolour = 'bleu'")
    )
    text += (
        '\n[extranet]\nurl = "https://extranet.example/partenaires"\n'
        'account = "accueil@ville-corbas.fr"\npassword_env = "INTAKE_EXTRANET_PASSWORD"\n'
    )
    text += (
        '\n[[staff]]\nname = "Autre"\nemail = "L.Feuga@ville-corbas.fr"\n'
        'duties = ["recipient", "chef"]\n'
    )
    found = problems(folder, text)
    assert "convention.retrieval_days" in found
    assert "convention.colour" in found
    assert found["staff[1].duties[1]"].startswith("valeur inconnue")
    # semantic problems appear once the file has the right shape
    text = text.replace("retrieval_days = 0\ncolour = 'bleu'", "retrieval_days = 15").replace(
        '"recipient", "chef"', '"recipient"'
    )
    found = problems(folder, text)
    assert "fuseau horaire" in found["lieu.timezone"]
    assert "code INSEE" in found["communes[0].insee"]
    assert "staff" in found["extranet.account"] and "partagés" in found["extranet.account"]
    assert "déjà utilisée" in found["staff[1].email"]
    assert "extranet.password_env" not in found  # a secret is asked for by its user only
    assert "staff[0].communes" in found  # names a commune that is no longer declared


@pytest.mark.parametrize("code", ["20123", "99001", "6927", "00123", "98001", "2C123"])
def test_codes_that_are_not_insee_codes(folder: Path, code: str):
    assert "communes[0].insee" in problems(folder, TEMPLATE.replace('"69273"', f'"{code}"', 1))


@pytest.mark.parametrize("code", ["2A004", "2B033", "97411", "97611", "01001"])
def test_real_insee_codes(folder: Path, code: str):
    text = TEMPLATE.replace('"69273"', f'"{code}"')
    assert configuration.load(write(folder, text), {}).commune_codes == {code}


def test_missing_and_exposed_key_files(folder: Path):
    key = folder / "secrets" / "master.key"
    os.chmod(key, 0o644)
    assert "chmod 600" in problems(folder, TEMPLATE)["vault.key_file"]
    key.unlink()
    assert "introuvable" in problems(folder, TEMPLATE)["vault.key_file"]


def test_a_key_store_shared_with_others(folder: Path):
    keys = folder / "secrets" / "cles"
    loaded = configuration.load(write(folder, TEMPLATE), {})  # absent: made at first use
    assert loaded.keys_dir.resolve() == keys.resolve()  # default: beside the master key
    keys.mkdir()
    os.chmod(keys, 0o755)
    assert "chmod 700" in problems(folder, TEMPLATE)["vault.keys_dir"]
    os.chmod(keys, 0o700)
    assert configuration.load(write(folder, TEMPLATE), {}).keys_dir.resolve() == keys.resolve()


def test_missing_sections_and_bad_toml(folder: Path):
    assert problems(folder, "[lieu]\nid='X'\nname='Y'\n").keys() >= {
        "convention",
        "communes",
        "staff",
    }
    assert "TOML invalide" in next(iter(problems(folder, "[lieu\n").values()))


def test_duty_coverage(folder: Path):
    text = TEMPLATE.replace(
        'duties = ["recipient", "signatory", "admin"]', 'duties = ["recipient"]'
    )
    found = problems(folder, text)
    assert "signatory" in found["staff"] or "admin" in found["staff"]


def test_location_order(tmp_path: Path):
    assert configuration.locate("a.toml", {"INTAKE_CONFIG": "b.toml"}) == Path("a.toml")
    assert configuration.locate(None, {"INTAKE_CONFIG": "b.toml"}) == Path("b.toml")
    assert configuration.locate(None, {}) == Path("intake.toml")


EXTRANET = (
    '\n[extranet]\nurl = "https://extranet.example/partenaires"\n'
    'account = "l.feuga@ville-corbas.fr"\npassword_env = "INTAKE_EXTRANET_PASSWORD"\n'
)
SMTP = (
    '\n[smtp]\nhost = "127.0.0.1"\nsender = "intake@ville-corbas.fr"\n'
    'username_env = "INTAKE_SMTP_USER"\npassword_file = "secrets/smtp"\n'
)


def test_a_command_that_does_not_connect_needs_no_secret(folder: Path):
    """The account holder's password is read by the commands that sign in, and by them only:
    `show` or `status` must not push a lieu to share it."""
    config = configuration.load(write(folder, TEMPLATE + EXTRANET + SMTP), {})
    assert config.raw.extranet is not None
    with pytest.raises(ConfigError) as caught:
        config.secret(config.raw.extranet, "password", {})
    assert [p.key for p in caught.value.problems] == ["extranet.password_env"]
    assert "INTAKE_EXTRANET_PASSWORD" in caught.value.problems[0].message
    assert config.secret(config.raw.extranet, "password", {"INTAKE_EXTRANET_PASSWORD": "s"}) == "s"


def test_check_config_lists_every_missing_secret_at_once(folder: Path):
    config = configuration.load(write(folder, TEMPLATE + EXTRANET + SMTP), {})
    missing = {p.key for p in config.missing_secrets({})}
    assert missing == {"extranet.password_env", "smtp.username_env", "smtp.password_file"}
    (folder / "secrets" / "smtp").write_text("mot de passe\n", encoding="utf-8")
    environ = {"INTAKE_EXTRANET_PASSWORD": "x", "INTAKE_SMTP_USER": "u"}
    assert config.missing_secrets(environ) == []
    assert config.raw.smtp is not None
    assert config.secret(config.raw.smtp, "password", environ) == "mot de passe"


def test_a_configuration_not_in_utf8_is_refused_in_french(folder: Path):
    # Saved as Latin-1 by an editor: a ConfigError naming the file, not a traceback.
    path = folder / "intake.toml"
    path.write_bytes(TEMPLATE.replace("exemple = true", "# réglé").encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        configuration.load(path, {})
    [problem] = caught.value.problems
    assert problem.key == str(path) and "UTF-8" in problem.message
