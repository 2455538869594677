"""`POST /api/v1/reports` and `/reports/prepare`: the JSON adapter over the intake pipeline.

A report comes either with its sealed fields (sealed here, in this request's
memory) or, SPEC 11, with a prepared token and the envelope the reporter's
browser sealed: then the server checks the token and the envelope's shape and
never sees the content. Both go through the one `intake.reports.service.submit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from channels.base import ChannelAdapter
from intake.context import AppContext
from intake.errors import problem_doc
from intake.http.deps import Context, client_source, language_for
from intake.reports import prepared as prepared_tokens
from intake.reports.schemas import (
    ClearFieldsIn,
    PreparedKey,
    PreparedOut,
    ReportIn,
    ReportOut,
    SealedReportIn,
)
from intake.reports.sealed import sealed_submission
from intake.reports.service import prepare_route, submit
from intake.reports.submission import Submission
from intake.vocab import Channel

CHANNEL: Channel = "api"
M = TypeVar("M", bound=BaseModel)
router = APIRouter(prefix="/api/v1", tags=["reports"])
# The fields that mark a report sealed in the browser (SPEC 11).
SEALED_MARKERS = ("prepared", "envelope")
_REPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ReportIn"},
                        {"$ref": "#/components/schemas/SealedReportIn"},
                    ]
                }
            }
        },
    }
}


@router.post(
    "/reports/prepare",
    response_model=PreparedOut,
    responses={422: problem_doc("Invalid clear fields"), 429: problem_doc("Over a limit")},
)
def prepare_report(
    fields: Annotated[ClearFieldsIn, Body()], request: Request, context: Context
) -> PreparedOut:
    """SPEC 11: a case_ref, the decision's keys and a signed 30-minute token; stores nothing."""
    route = prepare_route(context, fields, source=client_source(request, context))
    token = prepared_tokens.issue(
        context.secret,
        case_ref=route.case_ref,
        decision=route.decision,
        kids=[key.kid for key in route.keys],
        clear=fields.clear_fields(),
        now=route.now,
    )
    keys = [PreparedKey(kid=key.kid, public_key=key.public_key) for key in route.keys]
    return PreparedOut(case_ref=route.case_ref, keys=keys, prepared=token)


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportOut,
    openapi_extra=_REPORT_BODY,
    responses={422: problem_doc("Invalid report"), 429: problem_doc("Over a limit")},
)
def create_report(
    body: Annotated[dict[str, Any], Body()], request: Request, context: Context
) -> ReportOut:
    if any(marker in body for marker in SEALED_MARKERS):
        submission = _sealed_submission(_validated(SealedReportIn, body), request, context)
    else:
        report = _validated(ReportIn, body)
        submission = Submission(
            report=report,
            channel=CHANNEL,
            language=language_for(report.language, request, context),
            source=client_source(request, context),
        )
    accepted = submit(context, submission)
    return ReportOut(case_ref=accepted.case_ref, receipt=accepted.receipt, status="routed")


def _validated(model: type[M], body: dict[str, Any]) -> M:
    """As FastAPI validates a typed body: the same 422 problem in the reporter's language."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(), body=body) from None


def _sealed_submission(report: SealedReportIn, request: Request, context: AppContext) -> Submission:
    language = language_for(report.language, request, context)
    source = client_source(request, context)
    return sealed_submission(context, report, channel=CHANNEL, language=language, source=source)


class ApiChannel(ChannelAdapter):
    """`POST /api/v1/reports` and `POST /api/v1/reports/prepare`."""

    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)
