"""`POST /api/v1/reports`: the JSON adapter over the intake pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Request, status

from channels.base import ChannelAdapter
from intake.http.deps import Context, client_source, language_for
from intake.reports.schemas import ReportIn, ReportOut
from intake.reports.service import submit
from intake.reports.submission import Submission
from intake.vocab import Channel

CHANNEL: Channel = "api"
router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
def create_report(
    report: Annotated[ReportIn, Body()], request: Request, context: Context
) -> ReportOut:
    submission = Submission(
        report=report,
        channel=CHANNEL,
        language=language_for(report.language, request, context),
        source=client_source(request, context),
    )
    accepted = submit(context, submission)
    return ReportOut(case_ref=accepted.case_ref, receipt=accepted.receipt, status="routed")


class ApiChannel(ChannelAdapter):
    """`POST /api/v1/reports`."""

    name: Channel = CHANNEL

    def routers(self) -> Sequence[APIRouter]:
        return (router,)
