"""What the staff endpoints answer."""

from __future__ import annotations

from typing import Literal

from intake.reports.schemas import Schema


class TokenOut(Schema):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name
    expires_in: int
