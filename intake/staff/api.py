"""`POST /api/v1/auth/token`: a bearer token for a staff account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from intake.errors import Unauthorized, problem_doc
from intake.http.deps import Context, client_source
from intake.staff.auth import Credentials, issue_token
from intake.staff.schemas import TokenOut

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        Unauthorized.status: problem_doc("Wrong username, password or code."),
        429: problem_doc("Too many failures (account or address); see Retry-After."),
    },
)
def create_token(
    context: Context,
    request: Request,
    response: Response,
    username: Annotated[str, Form(min_length=1, max_length=128)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    otp: Annotated[str | None, Form(max_length=16)] = None,
) -> TokenOut:
    """Form fields `username`, `password` and, once the account uses TOTP, `otp`.

    401 for a wrong username, password or code (one answer for all);
    429 with `Retry-After` while the account is locked after repeated failures, or
    after too many failures from this address (INTAKE_SIGNIN_LIMIT); the password
    is then not checked.
    """
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 section 5.1
    response.headers["Pragma"] = "no-cache"
    credentials = Credentials(username=username, password=password, otp=otp)
    issued = issue_token(context, credentials, source=client_source(request, context))
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)
