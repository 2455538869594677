"""`GET /api/v1/focal-points`: the active table's focal points and escrow keys.

Public keys only: what a focal point's page needs to re-seal a case's data key
for another focal point (SPEC section 10).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from intake.errors import Forbidden, Unauthorized, problem_doc
from intake.http.deps import Context
from intake.reports.schemas import Schema
from intake.staff.deps import require_roles
from intake.staff.service import Staff

router = APIRouter(prefix="/api/v1", tags=["routing"])


class FocalPointOut(Schema):
    id: str
    name: str
    agency: str
    country: str
    public_keys: list[str]


class FocalPointList(Schema):
    focal_points: list[FocalPointOut]
    escrow: list[str]


@router.get(
    "/focal-points",
    response_model=FocalPointList,
    responses={
        Unauthorized.status: problem_doc("Missing, unknown, expired or revoked."),
        Forbidden.status: problem_doc("This role may not use this endpoint."),
    },
)
def list_focal_points(
    context: Context,
    response: Response,
    _staff: Annotated[Staff, Depends(require_roles("focal_point", "coordinator", "admin"))],
) -> FocalPointList:
    """The active routing table's focal points with their public keys, and the escrow keys."""
    response.headers["Cache-Control"] = "no-store"
    with context.sessions() as session:
        table = context.routing.active(session).table
    return FocalPointList(
        focal_points=[
            FocalPointOut(
                id=fp.id,
                name=fp.name,
                agency=fp.agency,
                country=fp.country,
                public_keys=[_b64(key) for key in fp.public_keys],
            )
            for fp in table.focal_points
        ],
        escrow=[_b64(key) for key in table.escrow_keys],
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
