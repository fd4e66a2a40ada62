"""Configuration comes from the environment, once, with safe defaults."""

import re
from datetime import timedelta

import pytest

from respite import create_app
from respite.config import Config, normalise_database_url


def test_environment_settings_are_read():
    settings = Config.from_env(
        {
            "SECRET_KEY": "s3cret",
            "DATABASE_URL": "postgres://u:p@db/respite",
            "REDIS_URL": "redis://cache:6379/1",
            "ATTACHMENT_KEY": "k",
            "MESSAGE_RETENTION_DAYS": "30",
            "DEFAULT_ANNUAL_ALLOTMENT_HOURS": "60",
            "SESSION_TIMEOUT_MINUTES": "45",
            "SSE_CHANNEL_PREFIX": "site-b",
            "SSE_HEARTBEAT_SECONDS": "5",
            "SSE_STREAM_MAX_SECONDS": "60",
            "RESPITE_ENV": "production",
        }
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/respite"
    assert settings["REDIS_URL"] == "redis://cache:6379/1"
    assert settings["MESSAGE_RETENTION_DAYS"] == 30
    assert settings["DEFAULT_ANNUAL_ALLOTMENT_HOURS"] == 60
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=45)
    assert (settings["SSE_CHANNEL_PREFIX"], settings["SSE_HEARTBEAT_SECONDS"]) == ("site-b", 5.0)
    assert settings["SSE_STREAM_MAX_SECONDS"] == 60.0
    assert settings["PRODUCTION"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_unset_environment_means_defaults():
    assert Config.from_env({}) == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_production_refuses_the_default_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("RESPITE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"REDIS_URL": "redis://127.0.0.1:1/0"}, instance_path=str(tmp_path))


def production_app(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("RESPITE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    monkeypatch.setenv("AUDIT_KEY", "an audit key of thirty-two characters or more")
    monkeypatch.setenv("ATTACHMENT_KEY", "an attachment key of thirty-two characters or more")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app(
        {"REDIS_URL": "redis://127.0.0.1:1/0", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"},
        instance_path=str(tmp_path),
    )


def test_production_needs_the_base_url_links_are_built_from(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="BASE_URL must be set"):
        production_app(monkeypatch, tmp_path)


@pytest.mark.parametrize("audit_key", ["", "too short to resist a guess"])
def test_production_needs_a_long_audit_key_of_its_own(monkeypatch, tmp_path, audit_key):
    with pytest.raises(RuntimeError, match="AUDIT_KEY must be set in production"):
        production_app(monkeypatch, tmp_path, BASE_URL="https://respite.example.org", AUDIT_KEY=audit_key)


@pytest.mark.parametrize("attachment_key", ["", "too short to resist a guess"])
def test_production_needs_a_long_attachment_key(monkeypatch, tmp_path, attachment_key):
    with pytest.raises(RuntimeError, match="ATTACHMENT_KEY must be set in production"):
        production_app(monkeypatch, tmp_path, BASE_URL="https://respite.example.org", ATTACHMENT_KEY=attachment_key)


def test_attachment_and_retention_settings_come_from_the_environment():
    settings = Config.from_env(
        {"ATTACHMENT_KEY": "a" * 40, "ATTACHMENT_FOLDER": "/srv/respite/attachments", "MESSAGE_RETENTION_DAYS": "365"}
    )
    assert settings["ATTACHMENT_KEY"] == "a" * 40
    assert settings["ATTACHMENT_FOLDER"] == "/srv/respite/attachments"
    assert settings["MESSAGE_RETENTION_DAYS"] == 365


def test_audit_settings_come_from_the_environment():
    settings = Config.from_env(
        {"AUDIT_KEY": "k" * 40, "AUDIT_CHECKPOINT_FILE": "/var/log/respite/audit", "AUDIT_CHECKPOINT_MINUTES": "5"}
    )
    assert settings["AUDIT_KEY"] == "k" * 40
    assert settings["AUDIT_CHECKPOINT_FILE"] == "/var/log/respite/audit"
    assert settings["AUDIT_CHECKPOINT_MINUTES"] == 5


def test_production_sends_hsts_and_ignores_a_forwarded_host(monkeypatch, tmp_path):
    from flask import url_for

    from respite.web.links import absolute_url

    app = production_app(monkeypatch, tmp_path, BASE_URL="https://respite.example.org/")
    response = app.test_client().get(
        "/login", headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.wsgi_app.x_host == 0
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        link = absolute_url(url_for("accounts.invitation", token="t"))
    assert link == "https://respite.example.org/invitation/t"


def test_development_has_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize(
    ("redis_url", "storage"),
    [
        ("unix:///srv/instance/redis.socket", "redis+unix:///srv/instance/redis.socket"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_throttling_counts_in_the_apps_redis(redis_url, storage):
    from respite import limiter_storage_uri

    assert limiter_storage_uri(redis_url) == storage


def test_throttling_limits_come_from_the_environment():
    settings = Config.from_env({"SIGN_IN_LIMIT": "3 per minute", "SIGN_IN_FAILURE_LIMIT": "2 per hour"})
    assert settings["SIGN_IN_LIMIT"] == "3 per minute"
    assert settings["SIGN_IN_FAILURE_LIMIT"] == "2 per hour"


def test_pages_carry_the_policy_with_a_fresh_nonce_for_each_response(client):
    first, second = client.get("/login"), client.get("/login")
    policy = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert f'nonce="{nonce}"' in first.text
    assert nonce not in second.headers["Content-Security-Policy"]
    assert first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "same-origin"
