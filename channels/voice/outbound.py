"""The voice channel's outbox kind "voice_recording": fetch, seal, store, delete at Twilio.

The payload holds the attachment's id and, sealed with the server's draft key,
the RecordingSid and the CallSid. The worker:

1. fetches the recording's audio (`GET /2010-04-01/Accounts/{AC}/Recordings/{RE}.wav`)
   through the same rebased HTTP client as every Twilio call;
2. seals it as an envelope v1 of `{"mime", "data"}` (data base64) to the case's
   recipients and escrow, AAD `intake:v1:` + case_ref, and stores it on the
   attachment (`attached`), in one transaction with an audit entry;
3. deletes the recording, then the call, at Twilio (404: already gone).

Each step is idempotent, so a retry after any failure redoes only what is
left. A refusal that retrying cannot mend (the recording is gone: 404) marks
the attachment `lost` at once; retries that run out leave the outbox entry
failed, and `purge_lost` marks its attachment `lost` on the worker's next pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.twilio_client import call_twilio, make_client
from crypto.envelope import b64e, case_aad, seal
from crypto.errors import CryptoError
from crypto.secretbox import DraftError, open_draft, seal_draft
from crypto.server_secret import ServerSecret
from intake.audit import trail as audit
from intake.cases.service import case_public_keys
from intake.context import AppContext
from intake.db import transaction
from intake.errors import Conflict
from intake.models import Case, CaseAttachment, OutboxEntry, utcnow
from intake.worker.delivery import DeliveryError, http_failure

FETCH_KIND = "voice_recording"
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")
RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
MAX_AUDIO_BYTES = 64 * 1024 * 1024
AUDIO_TYPES = frozenset({"audio/x-wav", "audio/wav", "audio/mpeg"})
DEFAULT_TYPE = "audio/x-wav"
WORKER_ACTOR = "worker"


def fetch_payload(
    secret: ServerSecret, attachment_id: int, *, call_sid: str, recording_sid: str
) -> dict[str, object]:
    sids = json.dumps({"call_sid": call_sid, "recording_sid": recording_sid}).encode("ascii")
    return {"attachment_id": attachment_id, "sids_sealed": b64e(seal_draft(secret, sids))}


def _sids(secret: ServerSecret, payload: Mapping[str, Any]) -> tuple[int, str, str]:
    attachment_id = payload.get("attachment_id")
    sealed = payload.get("sids_sealed")
    if not isinstance(attachment_id, int) or not isinstance(sealed, str):
        raise DeliveryError("bad_payload", permanent=True)
    try:
        sids = json.loads(open_draft(secret, base64.b64decode(sealed, validate=True)))
        call_sid, recording_sid = str(sids["call_sid"]), str(sids["recording_sid"])
    except (binascii.Error, ValueError, DraftError, KeyError, TypeError):
        raise DeliveryError("bad_payload", permanent=True) from None
    if not (CALL_SID.match(call_sid) and RECORDING_SID.match(recording_sid)):
        raise DeliveryError("bad_payload", permanent=True)
    return attachment_id, call_sid, recording_sid


class VoiceKinds:
    """The recording handler, sharing one lazily built twilio Client."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._client: Any = None

    def _twilio(self) -> Any:
        if self._client is None:
            self._client = make_client(self._context.settings)
        return self._client

    def fetch_recording(self, payload: Mapping[str, Any]) -> None:
        attachment_id, call_sid, recording_sid = _sids(self._context.secret, payload)
        if self._pending(attachment_id):
            try:
                mime, audio = self._download(recording_sid)
            except DeliveryError as exc:
                if exc.permanent:
                    self._mark_lost(attachment_id)
                raise
            self._attach(attachment_id, mime, audio)
        twilio = self._twilio()
        call_twilio(twilio.recordings(recording_sid).delete, not_found_ok=True)
        call_twilio(twilio.calls(call_sid).delete, not_found_ok=True)

    def _pending(self, attachment_id: int) -> bool:
        with self._context.sessions() as session:
            found = session.get(CaseAttachment, attachment_id)
            return found is not None and found.status == "pending"

    def _download(self, recording_sid: str) -> tuple[str, bytes]:
        settings = self._context.settings
        twilio = self._twilio()
        token, account = settings.twilio_auth_token, settings.twilio_account_sid
        if token is None or account is None:
            raise DeliveryError("twilio_not_configured")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{recording_sid}.wav"
        auth = (account, token.get_secret_value())
        try:
            status, kind, body = call_twilio(
                lambda: twilio.http_client.get_bytes(url, auth=auth, max_bytes=MAX_AUDIO_BYTES)
            ) or (0, "", b"")
        except ValueError:
            raise DeliveryError("recording_too_large", permanent=True) from None
        if status != 200 or not body:
            raise http_failure("twilio", status)
        mime = kind.split(";", 1)[0].strip().lower()
        return (mime if mime in AUDIO_TYPES else DEFAULT_TYPE), body

    def _attach(self, attachment_id: int, mime: str, audio: bytes) -> None:
        with transaction(self._context.sessions) as session:
            found = _locked(session, attachment_id)
            if found is None or found.status != "pending":
                return
            case = session.get(Case, found.case_id)
            if case is None:
                return
            content = {"mime": mime, "data": base64.b64encode(audio).decode("ascii")}
            try:
                keys = case_public_keys(self._context, session, case)
                envelope = seal(content, public_keys=keys, aad=case_aad(case.case_ref))
            except (Conflict, CryptoError):
                raise DeliveryError("unsealable") from None
            text = json.dumps(envelope, separators=(",", ":"))
            found.envelope = text
            found.envelope_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
            found.status = "attached"
            found.attached_at = utcnow()
            audit.append(
                session,
                actor=WORKER_ACTOR,
                action="case.attachment.stored",
                case_ref=case.case_ref,
                detail={"attachment_id": found.id, "envelope_sha256": found.envelope_sha256},
            )

    def _mark_lost(self, attachment_id: int) -> None:
        with transaction(self._context.sessions) as session:
            found = _locked(session, attachment_id)
            if found is not None and found.status == "pending":
                found.status = "lost"


def _locked(session: Session, attachment_id: int) -> CaseAttachment | None:
    return session.scalars(
        select(CaseAttachment).where(CaseAttachment.id == attachment_id).with_for_update()
    ).one_or_none()


def purge_lost(session: Session) -> int:
    """Mark `lost` the pending attachments whose fetch ran out of retries; rows changed."""
    prefix = f"{FETCH_KIND}:"
    failed = session.scalars(
        select(OutboxEntry.dedupe_key).where(
            OutboxEntry.kind == FETCH_KIND, OutboxEntry.failed_at.is_not(None)
        )
    )
    ids = [int(key[len(prefix) :]) for key in failed if key and key[len(prefix) :].isdigit()]
    if not ids:
        return 0
    result = session.execute(
        update(CaseAttachment)
        .where(CaseAttachment.id.in_(ids), CaseAttachment.status == "pending")
        .values(status="lost")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
