"""The one staff sign-in: `GET/POST /staff/login`, `POST /staff/logout`, and `/staff`.

Plain forms, complete without JavaScript, CSRF-protected like every form
(intake/http/forms.py). The credentials go through the same checks as
`POST /api/v1/auth/token` (intake/staff/auth.py `sign_in`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from intake import i18n
from intake.context import AppContext
from intake.errors import TooManyRequests, Unauthorized
from intake.http.deps import Context, client_source, display_language
from intake.http.forms import FormFields, csrf_passed
from intake.http.pages import render_page
from intake.reports.field_errors import N_
from intake.staff.auth import Credentials
from intake.staff.sessions import end_session, open_session
from intake.staff.web import (
    LOGIN_PATH,
    StaffPage,
    clear_session_cookie,
    cookie_name,
    landing_path,
    page_staff,
    redirect,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)

PROBLEMS = {
    "expired": N_("The form expired. Please sign in again."),
    "wrong": N_("The username, password or one-time code is wrong."),
    "locked": N_("Too many failed sign-ins. Wait a while, then try again."),
}


def _login_page(
    request: Request,
    context: AppContext,
    language: str,
    *,
    problem: str = "",
    status: int = 200,
    username: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    message = i18n.translations_for(language).gettext(PROBLEMS[problem]) if problem else ""
    return render_page(
        request,
        context,
        "staff/login.html",
        language,
        status=status,
        headers=headers,
        problem=message,
        username=username,
    )


@router.get("/staff/login", response_class=HTMLResponse)
def login_form(request: Request, context: Context) -> Response:
    language = display_language(request, context)
    staff = page_staff(request, context)
    if staff is not None:
        return redirect(landing_path(request.app, staff.role), language)
    return _login_page(request, context, language)


@router.post("/staff/login", response_class=HTMLResponse)
def login(request: Request, context: Context, form: FormFields) -> Response:
    language = display_language(request, context)
    username = form.get("username", "")[:128]
    if not csrf_passed(request, context, form):
        return _login_page(
            request, context, language, problem="expired", username=username, status=400
        )
    credentials = Credentials(
        username=username, password=form.get("password", "")[:1024], otp=form.get("otp") or None
    )
    try:
        opened = open_session(context, credentials, source=client_source(request, context))
    except Unauthorized:
        return _login_page(
            request, context, language, problem="wrong", username=username, status=401
        )
    except TooManyRequests as error:
        return _login_page(
            request, context, language, problem="locked", status=429, headers=error.headers
        )
    response = redirect(landing_path(request.app, opened.staff.role), language)
    set_session_cookie(response, context.settings, opened)
    return response


@router.post("/staff/logout")
def logout(request: Request, context: Context, form: FormFields) -> Response:
    """Ends this session (a form without its CSRF token changes nothing)."""
    language = display_language(request, context)
    cookie = request.cookies.get(cookie_name(context.settings))
    if not csrf_passed(request, context, form):
        return redirect(LOGIN_PATH, language)
    if cookie:
        end_session(context, cookie)
    response = redirect(LOGIN_PATH, language)
    clear_session_cookie(response, context.settings)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.get("/staff", response_class=HTMLResponse)
def home(request: Request, context: Context, staff: StaffPage) -> Response:
    """A signed-in account's links to its own pages (each role also lands on one at sign-in)."""
    language = display_language(request, context)
    return render_page(request, context, "staff/home.html", language, staff=staff)


@router.get("/staff/keys", response_class=HTMLResponse)
def keys(request: Request, context: Context) -> Response:
    """Make a focal point key pair in the page (no sign-in: nothing is sent)."""
    language = display_language(request, context)
    return render_page(request, context, "staff/keys.html", language)
