"""`POST /api/v1/followup`: the JSON adapter over the follow-up service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from intake.deps import Context, client_source
from intake.errors import InvalidInput, NotFound, TooManyRequests
from intake.followup.schemas import FollowupIn, FollowupOut
from intake.followup.service import look_up

router = APIRouter(prefix="/api/v1", tags=["follow-up"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/followup",
    response_model=FollowupOut,
    responses={
        NotFound.status: {**_PROBLEM, "description": "No report has this receipt."},
        InvalidInput.status: {**_PROBLEM, "description": "Not a receipt."},
        TooManyRequests.status: {
            **_PROBLEM,
            "description": "Too many failed look-ups; see the Retry-After header.",
        },
    },
)
def follow_up(
    body: Annotated[FollowupIn, Body()], request: Request, response: Response, context: Context
) -> FollowupOut:
    """Status and messages of the report a receipt belongs to."""
    response.headers["Cache-Control"] = "no-store"  # opened messages: no cache may keep them
    view = look_up(context, receipt_text=body.receipt, source=client_source(request, context))
    return FollowupOut.of(view)
