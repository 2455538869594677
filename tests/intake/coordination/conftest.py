"""Staff accounts of every role, and hand-counted cases stored at chosen times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit import staff as staff_accounts
from testkit.cases import stored_case

from crypto.kdf import KdfCost
from intake.db import transaction
from intake.models import utcnow

PASSWORD = "a long staff passphrase"

# name -> (role, focal point id, country)
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "unicef": ("focal_point", "ke-unicef", None),
    "coord-ke": ("coordinator", None, "KE"),
    "coord-so": ("coordinator", None, "SO"),
    "operator": ("operator", None, None),
    "admin": ("admin", None, None),
}
Headers = dict[str, dict[str, str]]
Store = Callable[..., str]


@pytest.fixture
def staff(app: FastAPI, client: TestClient, kdf_cost: KdfCost) -> Headers:
    """Authorization headers by account name (see ACCOUNTS)."""
    staff_accounts.create_accounts(app, kdf_cost, ACCOUNTS, password=PASSWORD)
    return {name: staff_accounts.bearer(client, name, PASSWORD) for name in ACCOUNTS}


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def store(app: FastAPI, client: TestClient) -> Store:
    """Store one case (testkit.cases.stored_case's fields); its case_ref. (The client has
    started the app: its context exists.)"""

    def add(**fields: Any) -> str:
        with transaction(app.state.context.sessions) as session:
            return stored_case(session, **fields).case_ref

    return add
