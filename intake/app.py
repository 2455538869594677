"""The application factory: `create_app(settings)` and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from crypto.kdf import KdfCost
from crypto.server_secret import load_or_create
from intake import i18n
from intake.cases.api import router as cases_router
from intake.cases.pages import router as case_pages_router
from intake.context import (
    AppContext,
    ChannelHooks,
    KdfPool,
    ensure_receipt_salt,
    receipt_cost_from,
)
from intake.coordination.api import router as coordination_router
from intake.coordination.export_api import router as exports_router
from intake.coordination.pages import router as dashboard_router
from intake.db import make_engine, make_sessionmaker, private_dir
from intake.errors import install_error_handlers
from intake.followup.api import router as followup_router
from intake.http.client import ClientMiddleware
from intake.http.health import router as health_router
from intake.http.json_depth import JsonDepthMiddleware
from intake.http.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from intake.http.tarpit import TarpitMiddleware
from intake.paths import package_folder
from intake.reports.lookup_lane import LookupLane
from intake.reports.receipts import start_receipt_pool
from intake.routing_tables.api import router as focal_points_router
from intake.settings import Settings
from intake.staff.api import router as staff_router
from intake.staff.pages import router as staff_pages_router
from intake.staff.web import install_page_handlers

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>psea-intake API</title>
<link rel="stylesheet" href="/static/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/docs/swagger-ui-bundle.js"></script>
<script src="/static/docs/init.js"></script></body></html>"""


def build_context(
    settings: Settings,
    *,
    channels: Sequence[ChannelHooks] = (),
    receipt_cost: KdfCost | None = None,
) -> AppContext:
    """Open the database and load the secret; shared by the server and the CLI."""
    private_dir(settings.data_dir)
    secret = load_or_create(settings.resolved_secret_file)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine, secret=secret)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        secret=secret,
        receipt_cost=receipt_cost or receipt_cost_from(settings),
        receipt_salt=ensure_receipt_salt(sessions),
        kdf=KdfPool(settings.kdf_concurrency),
        channels=tuple(channels),
        passwords=KdfPool(settings.password_concurrency),
        lookups=LookupLane(max(1, settings.kdf_concurrency // 4)),
    )


def create_app(
    settings: Settings,
    *,
    channels: Sequence[ChannelHooks],
    receipt_cost: KdfCost | None = None,
) -> FastAPI:
    """Build the app; the database is opened in the lifespan, not at import.

    `channels` are the installed channels (`channels.registry.installed()`),
    handed over because the core never imports one. `receipt_cost` lets tests
    lower the receipt KDF (never below SPEC outside tests).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(settings, channels=channels, receipt_cost=receipt_cost)
        i18n.preload()
        start_receipt_pool(context)
        app.state.context = context
        try:
            yield
        finally:
            context.close()

    app = FastAPI(
        title="psea-intake",
        version="1",
        summary="Intake of SEA and misconduct reports, sealed to the right focal point.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    install_error_handlers(app)
    install_page_handlers(app)
    app.mount("/static", StaticFiles(directory=package_folder("static")), name="static")
    if settings.docs:
        app.add_api_route("/docs", _docs_page, include_in_schema=False)
    for router in _core_routers():
        app.include_router(router)
    for channel in channels:
        for router in channel.routers():
            app.include_router(router)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(JsonDepthMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.https)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(TarpitMiddleware, delay_s=settings.refusal_delay_s)
    app.add_middleware(ClientMiddleware, trusted=settings.trusted_networks)
    return app


async def _docs_page() -> HTMLResponse:
    return HTMLResponse(_DOCS_PAGE)


def _core_routers() -> list[APIRouter]:
    return [
        health_router,
        followup_router,
        staff_router,
        cases_router,
        focal_points_router,
        exports_router,
        staff_pages_router,
        case_pages_router,
        coordination_router,
        dashboard_router,
    ]
