"""`GET /api/v1/exports/cases?format=csv|xlsx&country=&from=&to=` (SPEC section 12).

A coordinator exports its own country (asking for another is 403), an admin
any or every country; other roles get 403. CSV is streamed as it is read. XLSX
is a zip whose directory comes last, so the workbook is written first to an
anonymous temporary file (XlsxWriter in `constant_memory` mode) and then
streamed from it: it holds clear metadata only, never a sealed field.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from intake.context import AppContext
from intake.coordination import case_export
from intake.coordination.files import csv_chunks, file_chunks, write_xlsx
from intake.errors import Forbidden, InvalidInput, Unauthorized, problem_doc
from intake.http.deps import Context
from intake.models import utcnow
from intake.staff.deps import require_roles
from intake.staff.service import Staff

router = APIRouter(
    prefix="/api/v1/exports",
    tags=["exports"],
    responses={
        Unauthorized.status: problem_doc("Missing, unknown, expired or revoked."),
        Forbidden.status: problem_doc("This role, or this country, is not yours to export."),
        InvalidInput.status: problem_doc("The request is not valid."),
    },
)
_OTHER_COUNTRY = "A coordinator may export only its own country."
_BACKWARDS = "`from` must not be after `to`."
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Exporter = Annotated[Staff, Depends(require_roles("coordinator", "admin"))]


@router.get(
    "/cases",
    response_class=StreamingResponse,
    responses={200: {"content": {_MEDIA["csv"]: {}, _MEDIA["xlsx"]: {}}}},
)
def export_cases(
    staff: Exporter,
    context: Context,
    format: Literal["csv", "xlsx"] = "csv",  # noqa: A002 - the SPEC's parameter name
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> StreamingResponse:
    """One row of clear metadata per case, with the SPEC's columns, as CSV or XLSX."""
    which = case_export.ExportFilter(country=_country_for(staff, country), start=start, end=end)
    if start and end and start > end:
        raise InvalidInput(_BACKWARDS)
    body = _csv(context, which) if format == "csv" else _xlsx(context, which)
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="cases.{format}"',
    }
    return StreamingResponse(body, media_type=_MEDIA[format], headers=headers)


def _country_for(staff: Staff, asked: str | None) -> str | None:
    if staff.role == "admin":
        return asked
    if asked is not None and asked != staff.country:
        raise Forbidden(_OTHER_COUNTRY)
    return staff.country


def _csv(context: AppContext, which: case_export.ExportFilter) -> Iterator[bytes]:
    with context.sessions() as session:
        rows = case_export.rows(session, which, now=utcnow())
        for chunk in csv_chunks(case_export.COLUMNS, rows):
            yield chunk.encode("utf-8")


def _xlsx(context: AppContext, which: case_export.ExportFilter) -> Iterator[bytes]:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by file_chunks once streamed
    try:
        with context.sessions() as session:
            write_xlsx(handle, case_export.COLUMNS, case_export.rows(session, which, now=utcnow()))
    except BaseException:
        handle.close()
        raise
    return file_chunks(handle)
