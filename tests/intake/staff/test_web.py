"""The staff pages' cookie name and landing paths (intake/staff/web.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from intake.settings import Settings
from intake.staff.web import cookie_name, landing_path


def test_the_cookie_is_host_only_and_secure_only_behind_https(tmp_path: Path) -> None:
    https = Settings(data_dir=tmp_path, public_url="https://intake.example.org")
    plain = Settings(data_dir=tmp_path, public_url="http://intake.example.org")
    unset = Settings(data_dir=tmp_path)
    assert (https.https, plain.https, unset.https) == (True, False, False)
    assert cookie_name(https) == "__Host-staff_session"
    assert cookie_name(plain) == cookie_name(unset) == "staff_session"
    assert unset.staff_idle_minutes == 15


def test_each_role_lands_on_its_page() -> None:
    app = FastAPI()
    assert landing_path(app, "focal_point") == "/inbox"
    assert landing_path(app, "operator") == "/hotline"
    assert landing_path(app, "coordinator") == landing_path(app, "admin") == "/dashboard"
