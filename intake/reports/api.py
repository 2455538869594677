"""`POST /api/v1/reports`: the JSON adapter over the intake pipeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, status

from intake.deps import Context, client_source, language_for
from intake.pipeline import Submission, submit
from intake.reports.schemas import ReportOut
from intake.schemas import ReportIn

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
def create_report(
    report: Annotated[ReportIn, Body()], request: Request, context: Context
) -> ReportOut:
    submission = Submission(
        report=report,
        channel="api",
        language=language_for(report.language, request, context),
        source=client_source(request, context),
    )
    accepted = submit(context, submission)
    return ReportOut(case_ref=accepted.case_ref, receipt=accepted.receipt, status="routed")
