import os
import subprocess
import sys


def settings_value(env: dict[str, str], expression: str) -> str:
    code = (
        f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cadency.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_behind_a_tls_proxy_cookies_are_secure_and_the_forwarded_scheme_counts() -> None:
    on = {"CADENCY_BEHIND_TLS_PROXY": "1"}
    assert settings_value(on, "s.SECURE_PROXY_SSL_HEADER") == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert settings_value(on, "(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)") == "(True, True)"
    off = {"CADENCY_BEHIND_TLS_PROXY": "0"}
    assert settings_value(off, "s.SECURE_PROXY_SSL_HEADER") == "None"
    assert settings_value(off, "s.SESSION_COOKIE_SECURE") == "False"
