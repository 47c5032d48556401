"""Production behind TLS: ``CATALOG_TLS=1`` turns on secure cookies, HSTS, the HTTPS redirect
and the proxy header together, and ``manage.py check --deploy`` then has nothing to say.
Plain HTTP (the local compose file, ``./dev.sh serve``) keeps working without it.

Each case runs ``manage.py`` in a subprocess, because settings are read once at start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "k3y-for-the-deploy-check-" + "x7Qp2" * 8
WARNINGS_WITHOUT_TLS = ("security.W004", "security.W008", "security.W012", "security.W016")


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py with production settings (DEBUG off) plus ``env``."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "CATALOG_", "DJANGO_"))
    }
    environ |= {
        "DEBUG": "0",
        "SECRET_KEY": KEY,
        "ALLOWED_HOSTS": "catalog.example.org",
        "CATALOG_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_tls_has_no_warnings(tmp_path):
    done = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", CATALOG_TLS="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout, done.stdout


def test_check_deploy_without_tls_names_what_is_missing(tmp_path):
    done = run(tmp_path, "check", "--deploy")
    output = done.stdout + done.stderr
    for warning in WARNINGS_WITHOUT_TLS:
        assert warning in output, output


def test_check_deploy_in_production_mode_with_tls(tmp_path):
    done = run(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        CATALOG_TLS="1",
        CATALOG_PRODUCTION="1",
    )
    assert done.returncode == 0, done.stdout + done.stderr


# A request through the WSGI app in the subprocess: (status, Location, HSTS, Set-Cookie flags).
PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client(SERVER_NAME="catalog.example.org")
out = {}
for name, kwargs in {
    "http": {},
    "proxied https": {"HTTP_X_FORWARDED_PROTO": "https"},
}.items():
    r = c.get("/accounts/login/", **kwargs)
    cookie = r.cookies.get("csrftoken")
    out[name] = [r.status_code, r.get("Location"), r.get("Strict-Transport-Security"),
                 bool(cookie and cookie["secure"])]
out["health"] = [c.get("/v2/health/live").status_code]
print(json.dumps(out))
"""


def probe(tmp_path: Path, **env: str) -> dict[str, list]:
    import json

    run(tmp_path, "migrate", "-v", "0", **env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "CATALOG_", "DJANGO_"))
        }
        | {
            "DJANGO_SETTINGS_MODULE": "catalog.shell.settings",
            "DEBUG": "0",
            "SECRET_KEY": KEY,
            "ALLOWED_HOSTS": "catalog.example.org",
            "CATALOG_VAR_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_tls_redirects_plain_http_and_marks_cookies_secure(tmp_path):
    seen = probe(tmp_path, CATALOG_TLS="1")
    status, location, _, _ = seen["http"]
    assert status == 301 and location == "https://catalog.example.org/accounts/login/"
    status, _, hsts, secure_cookie = seen["proxied https"]
    assert status == 200 and hsts and "max-age=31536000" in hsts and secure_cookie
    assert seen["health"] == [200]  # probes over plain HTTP are not redirected


@pytest.mark.slow
def test_plain_http_keeps_working_without_tls(tmp_path):
    seen = probe(tmp_path)
    status, location, hsts, secure_cookie = seen["http"]
    assert status == 200 and location is None and hsts is None and not secure_cookie
