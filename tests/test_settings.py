"""Settings are secure by default: production values must be given, and then pass `check --deploy`."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "p9Xk2-vLq7Rz4Tw8Yb1Nc5Md3Fh6Js0Ga-Ue7Io4Pl2Kx9Wn5Bv8Cy3Zt1Hr6Qm",
    "DJANGO_ALLOWED_HOSTS": "support.walt-labs.example",
    "DJANGO_HTTPS": "true",
    "DJANGO_BEHIND_TLS_PROXY": "true",
}


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _run("check", env=PRODUCTION | {"DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _run("check", env=PRODUCTION | {"DJANGO_ALLOWED_HOSTS": ""})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_for_the_documented_production_values():
    result = _run("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_documents_every_setting_the_portal_reads():
    settings_source = (ROOT / "walt_portal" / "settings.py").read_text()
    documented = (ROOT / ".env.example").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))

    assert read - set(re.findall(r"^#?\s*([A-Z_]+)=", documented, re.MULTILINE)) == set()
