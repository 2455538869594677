"""The content security policies: public pages keep theirs, staff pages get SPEC 10's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from intake.http.middleware import CASE_PAGE_CSP, CSP, STAFF_CSP, is_staff_page


@pytest.mark.parametrize("path", ["/followup", "/healthz", "/report/sealing"])
def test_public_pages_keep_their_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "wasm-unsafe-eval" not in CSP
    assert "media-src" not in response.headers["content-security-policy"]


def test_the_report_form_may_compile_libsodium_and_nothing_more(client: TestClient) -> None:
    """SPEC 11: the form seals in the page with the staff pages' libsodium."""
    assert client.get("/report").headers["content-security-policy"] == STAFF_CSP
    assert CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'") == STAFF_CSP


@pytest.mark.parametrize("path", ["/staff/login", "/staff/keys", "/inbox", "/hotline"])
def test_staff_pages_allow_wasm_but_no_inline_script_and_are_never_cached(
    client: TestClient, path: str
) -> None:
    response = client.get(path, follow_redirects=False)
    policy = response.headers["content-security-policy"]
    assert policy == STAFF_CSP
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert "unsafe-inline" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["cache-control"] == "no-store"


def test_which_paths_are_staff_pages() -> None:
    assert is_staff_page("/inbox/cases/C-1")
    assert is_staff_page("/staff")
    assert not is_staff_page("/staffing")
    assert not is_staff_page("/report")


def test_only_the_case_page_may_play_media_and_only_from_blob_urls(client: TestClient) -> None:
    """A voice recording is decrypted in the page and played from a blob: URL (SPEC 17)."""
    assert "media-src" not in STAFF_CSP
    response = client.get("/inbox/cases/C-000000000000", follow_redirects=False)
    policy = response.headers["content-security-policy"]
    assert policy == CASE_PAGE_CSP
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["media-src"] == "blob:"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert directives["connect-src"] == "'self'"
