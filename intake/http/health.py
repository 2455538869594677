"""Liveness: answers without touching the database."""

from __future__ import annotations

from fastapi import APIRouter

from intake.http.deps import Context

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(context: Context) -> dict[str, str | bool]:
    """`{"status": "ok"}`; `"insecure_test_kdf": true` too on a test server (SPEC 15)."""
    if context.settings.insecure_test_kdf:
        return {"status": "ok", "insecure_test_kdf": True}
    return {"status": "ok"}
