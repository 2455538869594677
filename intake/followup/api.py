"""`POST /api/v1/followup`: the JSON adapter over the follow-up service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from intake.errors import InvalidInput, NotFound, TooManyRequests, problem_doc
from intake.followup.replies import reply
from intake.followup.schemas import FollowupIn, FollowupOut, ReplyIn, ReplyOut
from intake.followup.service import look_up
from intake.http.deps import Context, client_source

router = APIRouter(prefix="/api/v1", tags=["follow-up"])


@router.post(
    "/followup",
    response_model=FollowupOut,
    responses={
        NotFound.status: problem_doc("No report has this receipt."),
        InvalidInput.status: problem_doc("Not a receipt."),
        TooManyRequests.status: problem_doc(
            "Too many failed look-ups; see the Retry-After header."
        ),
    },
)
def follow_up(
    body: Annotated[FollowupIn, Body()], request: Request, response: Response, context: Context
) -> FollowupOut:
    """Status and messages of the report a receipt belongs to."""
    response.headers["Cache-Control"] = "no-store"  # opened messages: no cache may keep them
    view = look_up(context, receipt_text=body.receipt, source=client_source(request, context))
    return FollowupOut.of(view)


@router.post(
    "/followup/messages",
    status_code=201,
    response_model=ReplyOut,
    responses={
        NotFound.status: problem_doc("No report has this receipt."),
        InvalidInput.status: problem_doc(
            "Not a receipt, or a message not of 1 to 5,000 characters."
        ),
        TooManyRequests.status: problem_doc(
            "Too many failed look-ups, or 20 replies to this case today; see Retry-After."
        ),
    },
)
def reply_to_case(
    body: Annotated[ReplyIn, Body()], request: Request, response: Response, context: Context
) -> ReplyOut:
    """The reporter answers: the text is sealed at once to the case's recipients (SPEC 16)."""
    response.headers["Cache-Control"] = "no-store"
    at = reply(
        context,
        receipt_text=body.receipt,
        text=body.text,
        source=client_source(request, context),
    )
    return ReplyOut(at=at)
