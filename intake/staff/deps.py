"""Who may do what: every access rule of the staff API lives here, in one place.

- `CurrentStaff`: the account behind a live bearer token, or behind the staff
  pages' session cookie (then every request but GET and HEAD must also carry
  the page's CSRF token in `X-CSRF-Token`); 401 otherwise.
- `require_roles(...)`: 403 for any other role.
- `CaseListAccess` / `RecipientAccess`: the role guard of the case endpoints
  plus `scope`, the SQL condition naming the cases the account may see: a
  focal point its cases (active recipient), a coordinator its country's.
  Services apply `scope` to every query, so a case outside it is simply not
  found (404), never a hint that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, false, select

from intake.context import AppContext
from intake.errors import Forbidden, Unauthorized
from intake.http.deps import Context
from intake.http.forms import CSRF_COOKIE, csrf_valid
from intake.models import Case, CaseRecipient
from intake.models.staff import ROLES
from intake.staff.auth import staff_for_token
from intake.staff.service import Staff
from intake.staff.web import cookie_name, page_staff

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="A token from POST /api/v1/auth/token.",
)
_NOT_SIGNED_IN = "A valid bearer token is required (missing, unknown, expired or revoked)."
_WRONG_ROLE = "This account's role may not use this endpoint."
_NO_CSRF = "A request with the staff session cookie needs the page's X-CSRF-Token header."
_SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_HEADER = "X-CSRF-Token"


def current_staff(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    if credentials is None:
        staff = _page_session(request, context)
    else:
        staff = staff_for_token(context, credentials.credentials)
    if staff is None:
        raise Unauthorized(_NOT_SIGNED_IN)
    return staff


def _page_session(request: Request, context: AppContext) -> Staff | None:
    """The staff pages' session; a state-changing fetch must prove it comes from our page."""
    if cookie_name(context.settings) not in request.cookies:
        return None
    if request.method not in _SAFE_METHODS:
        token = request.headers.get(CSRF_HEADER)
        if not csrf_valid(context.secret.subkey("csrf"), request.cookies.get(CSRF_COOKIE), token):
            raise Forbidden(_NO_CSRF)
    return page_staff(request, context)


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require_roles(*roles: str) -> Callable[[Staff], Staff]:
    """A dependency that lets only `roles` through (403 for the others)."""
    _known(roles)

    def guard(staff: CurrentStaff) -> Staff:
        _check_role(staff, roles)
        return staff

    return guard


def _known(roles: tuple[str, ...]) -> None:
    if not roles or not set(roles) <= set(ROLES):
        raise ValueError("require_roles takes one or more known role names")


def _check_role(staff: Staff, roles: tuple[str, ...]) -> None:
    if staff.role not in roles:
        raise Forbidden(_WRONG_ROLE)


@dataclass(frozen=True, eq=False)
class CaseAccess:
    staff: Staff
    scope: ColumnElement[bool]  # which cases this account may see


def case_scope(staff: Staff) -> ColumnElement[bool]:
    if staff.role == "focal_point" and staff.focal_point_id:
        return Case.id.in_(
            select(CaseRecipient.case_id).where(
                CaseRecipient.focal_point_id == staff.focal_point_id,
                CaseRecipient.active.is_(True),
            )
        )
    if staff.role == "coordinator" and staff.country:
        return Case.country == staff.country
    return false()


def _case_access(*roles: str) -> Callable[[Staff], CaseAccess]:
    _known(roles)

    # Dependencies' annotations are resolved from module globals (postponed
    # evaluation), so this takes CurrentStaff and checks the role itself.
    def access(staff: CurrentStaff) -> CaseAccess:
        _check_role(staff, roles)
        return CaseAccess(staff=staff, scope=case_scope(staff))

    return access


CaseListAccess = Annotated[CaseAccess, Depends(_case_access("focal_point", "coordinator"))]
RecipientAccess = Annotated[CaseAccess, Depends(_case_access("focal_point"))]
