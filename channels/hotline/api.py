"""`POST /api/v1/hotline/reports`: an operator enters a call (SPEC section 4).

Operators only (no token 401, another role 403). The answer is the receipt to
read out; no endpoint gives an operator the case back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, status

from channels.hotline.schemas import HotlineReportIn, to_submission
from intake.http.deps import Context, language_for
from intake.reports.schemas import ReportOut
from intake.reports.service import submit
from intake.staff.deps import require_roles
from intake.staff.service import Staff

router = APIRouter(prefix="/api/v1", tags=["hotline"])

Operator = Annotated[Staff, Depends(require_roles("operator"))]


@router.post("/hotline/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
def create_hotline_report(
    operator: Operator,
    report: Annotated[HotlineReportIn, Body()],
    request: Request,
    context: Context,
) -> ReportOut:
    """ReportIn plus the optional `call` (`started_at`, `duration_s`, `caller_number`).

    `caller_number` is sealed with the report; the start and duration are clear.
    """
    submission = to_submission(
        report,
        language=language_for(report.language, request, context),
        actor=operator.username,
    )
    accepted = submit(context, submission)
    return ReportOut(case_ref=accepted.case_ref, receipt=accepted.receipt, status="routed")
