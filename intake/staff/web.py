"""The staff pages' sign-in, in one place: the session cookie and page dependencies.

- `StaffPage`: the signed-in account behind the session cookie (its idle clock
  restarted); without one, the page answers 303 to `/staff/login`.
- `page_roles(...)`: the same, and a 403 page for any other role.
- `page_staff(request, context)`: the account or None, for pages that answer
  a missing session themselves (the hotline console keeps a typed call).

The cookie is HttpOnly and SameSite=Strict; when INTAKE_PUBLIC_URL is https
it is also Secure and named `__Host-staff_session` (SPEC sections 10 and 15).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from intake.context import AppContext
from intake.http.deps import Context, display_language
from intake.http.pages import render_page
from intake.models.staff import ROLES
from intake.settings import Settings
from intake.staff.service import Staff
from intake.staff.sessions import OpenedSession, staff_for_session

LOGIN_PATH = "/staff/login"
LOGOUT_PATH = "/staff/logout"
HOME_PATH = "/staff"
DASHBOARD_PATH = "/dashboard"
_LANDING = {"focal_point": "/inbox", "operator": "/hotline"}


class SignInRequired(Exception):
    """No live session: the page answers 303 to the sign-in page."""


class PageForbidden(Exception):
    """A signed-in account whose role may not use this page: a 403 page."""


def cookie_name(settings: Settings) -> str:
    return "__Host-staff_session" if settings.https else "staff_session"


def page_staff(request: Request, context: AppContext) -> Staff | None:
    return staff_for_session(context, request.cookies.get(cookie_name(context.settings)))


def staff_page(request: Request, context: Context) -> Staff:
    staff = page_staff(request, context)
    if staff is None:
        raise SignInRequired
    return staff


StaffPage = Annotated[Staff, Depends(staff_page)]


def page_roles(*roles: str) -> Callable[[Staff], Staff]:
    """A page dependency that lets only `roles` through (a 403 page for the others)."""
    if not roles or not set(roles) <= set(ROLES):
        raise ValueError("page_roles takes one or more known role names")

    def guard(staff: StaffPage) -> Staff:
        if staff.role not in roles:
            raise PageForbidden
        return staff

    return guard


FocalPointPage = Annotated[Staff, Depends(page_roles("focal_point"))]


def set_session_cookie(response: Response, settings: Settings, opened: OpenedSession) -> None:
    response.set_cookie(
        cookie_name(settings),
        opened.cookie,
        max_age=opened.max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.https,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings), path="/", httponly=True, samesite="strict", secure=settings.https
    )


def landing_path(app: FastAPI, role: str) -> str:
    """Where an account lands after sign-in: coordinators and admins on the dashboard."""
    return _LANDING.get(role, DASHBOARD_PATH)


def redirect(path: str, language: str) -> RedirectResponse:
    return RedirectResponse(
        f"{path}?lang={language}", status_code=303, headers={"Cache-Control": "no-store"}
    )


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    context: AppContext = request.app.state.context
    return redirect(LOGIN_PATH, display_language(request, context))


async def _page_forbidden(request: Request, _exc: Exception) -> Response:
    context: AppContext = request.app.state.context
    language = display_language(request, context)
    return render_page(request, context, "staff/forbidden.html", language, status=403)


def install_page_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PageForbidden, _page_forbidden)
