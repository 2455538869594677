"""Recorded prompts served for Twilio's <Play>: only known names, inside the folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from channels.registry import installed
from crypto.kdf import KdfCost
from intake.app import create_app
from intake.settings import Settings

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00fake mp3"


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    (folder / "sw").mkdir(parents=True)
    (folder / "sw" / "welcome.mp3").write_bytes(MP3)
    (folder / "secret.mp3").write_bytes(b"outside any language")
    return folder


@pytest.fixture
def served(
    settings: Settings, loaded_routing: str, kdf_cost: KdfCost, prompts_dir: Path
) -> Iterator[TestClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"voice_prompts_dir": prompts_dir}),
        channels=installed(),
        receipt_cost=kdf_cost,
    )
    with TestClient(app, base_url="https://intake.example.org") as client:
        yield client


def test_a_recorded_prompt_is_served_as_mp3(served: TestClient) -> None:
    response = served.get("/channels/voice/prompts/sw/welcome.mp3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.content == MP3


@pytest.mark.parametrize(
    "path",
    [
        "/channels/voice/prompts/sw/goodbye.mp3",  # known name, not recorded
        "/channels/voice/prompts/sw/other.mp3",  # not a prompt
        "/channels/voice/prompts/sw/welcome",  # no suffix
        "/channels/voice/prompts/sw/..%2Fsecret.mp3",
        "/channels/voice/prompts/..%2F..%2Fsw/welcome.mp3",
        "/channels/voice/prompts/SW/welcome.mp3",
    ],
)
def test_anything_else_is_404(served: TestClient, path: str) -> None:
    response = served.get(path)
    assert response.status_code == 404
    assert b"outside any language" not in response.content
