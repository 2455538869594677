"""What the report endpoints answer."""

from __future__ import annotations

from typing import Literal

from intake.schemas import Schema


class ReportOut(Schema):
    case_ref: str
    receipt: str
    status: Literal["routed"]
