"""The extranet client reads the proxy and CA settings of its environment once."""

from __future__ import annotations

from intake.sources.extranet import ExtranetClient


def client() -> ExtranetClient:
    return ExtranetClient("https://extranet.monenfant.example", "agent@mairie.example", "x")


def test_a_proxy_of_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.mairie.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert client()._http.proxies["https"] == "http://proxy.mairie.example:3128"


def test_no_proxy_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.mairie.example:3128")
    monkeypatch.setenv("NO_PROXY", ".monenfant.example")
    assert "https" not in client()._http.proxies


def test_the_ca_bundle_of_the_environment_unless_one_is_configured(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/mairie.pem")
    assert client()._http.verify == "/etc/ssl/mairie.pem"
    configured = ExtranetClient("https://x.example", "a@b.example", "x", ca_bundle="/etc/own.pem")
    assert configured._http.verify == "/etc/own.pem"
