"""Concurrent wrong guesses can never pass the failed-look-up limit together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from fastapi.testclient import TestClient

from intake.errors import NotFound, TooManyRequests
from intake.followup.service import look_up
from intake.ratelimit import source_key


def test_simultaneous_guesses_from_one_source_respect_the_limit(
    app: FastAPI, client: TestClient
) -> None:
    context = app.state.context
    context.settings = context.settings.model_copy(update={"followup_limit": "2/hour"})
    source = source_key(context.secret, "198.51.100.7")

    def guess(n: int) -> str:
        try:
            look_up(context, receipt_text=f"{n:016d}", source=source)
        except NotFound:
            return "404"
        except TooManyRequests:
            return "429"
        return "200"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(guess, range(1, 9)))
    assert answers.count("404") == 2
    assert answers.count("429") == 6


def test_a_found_receipt_gives_its_attempt_back(app: FastAPI, client: TestClient) -> None:
    context = app.state.context
    context.settings = context.settings.model_copy(update={"followup_limit": "1/hour"})
    body = {"reporter_type": "anonymous", "country": "KE", "category": "other", "narrative": "x"}
    receipt = client.post("/api/v1/reports", json=body).json()["receipt"]
    source = source_key(context.secret, "198.51.100.8")
    for _ in range(3):
        assert look_up(context, receipt_text=receipt, source=source).status == "routed"
