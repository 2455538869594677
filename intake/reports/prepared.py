"""Reports sealed in the reporter's browser (SPEC 11): the prepared token and its checks.

`POST /api/v1/reports/prepare` answers a case_ref, the keys of the routing
decision and a token the server signed (keyed BLAKE2b with a sub-key of the
server secret) that binds the case_ref, the decision (rule, table version,
kids) and the clear fields, valid for 30 minutes. Nothing is stored then.

`POST /api/v1/reports` with that token and an envelope checks, before any
work: the signature and the expiry, that the clear fields are the signed
ones, that the envelope is well-formed v1 and that its recipient kids are
exactly the prepared keys. The reports service then checks that the routing
decision is still the signed one and records the token as used in the case's
own transaction (`mark_used`): a keyed hash of the token's random id, whose
primary key makes the token accepted once, across processes too.

The token is readable (base64url JSON): it holds only what its holder sent
or was told. The signature is what makes it the server's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.support import NullTranslations
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.envelope import b64e, kid_of, validate_envelope_shape
from crypto.errors import CryptoError
from crypto.server_secret import ServerSecret
from intake.errors import InvalidInput
from intake.models import UsedPreparedToken
from intake.reports.field_errors import message_for
from routing.engine import Decision
from routing.table import RoutingTable

SIGN_PURPOSE = "prepared-report"
USED_PURPOSE = "prepared-used"
LIFETIME = timedelta(minutes=30)
TOKEN_PREFIX = "p1."  # noqa: S105 - a format marker, not a secret
ID_BYTES = 16

# Fixed English details of each refusal (the `errors` entry carries the translation).
DETAILS: Mapping[str, str] = {
    "prepared_invalid": "The prepared token is not valid.",
    "prepared_expired": "The prepared token has expired.",
    "prepared_used": "The prepared token was already used.",
    "prepared_mismatch": "A clear field differs from the prepared one.",
    "prepared_stale": "The routing changed since the report was prepared.",
    "envelope_invalid": "The envelope is not a valid version 1 envelope.",
    "envelope_recipients": "The envelope's recipients are not exactly the prepared keys.",
}


@dataclass(frozen=True, repr=False)
class Prepared:
    """A verified token: what the server signed."""

    token_id: bytes
    case_ref: str
    expires_at: datetime
    rule_id: str
    table_version: str
    kids: tuple[str, ...]
    clear: Mapping[str, object]

    def __repr__(self) -> str:
        return "Prepared(<hidden>)"


@dataclass(frozen=True, repr=False)
class Presealed:
    """What a channel hands the reports service instead of sealed fields."""

    prepared: Prepared
    envelope_text: str  # compact JSON, stored as received (after the shape check)
    id_hash: bytes

    def __repr__(self) -> str:
        return "Presealed(<hidden>)"


def refusal(code: str, loc: Sequence[str], translations: NullTranslations) -> InvalidInput:
    """A 422 naming what is wrong: a fixed detail and the reporter-language message."""
    entry = {"loc": list(loc), "type": code, "msg": message_for(code, translations)}
    return InvalidInput(DETAILS[code], errors=[entry])


def decision_keys(table: RoutingTable, decision: Decision) -> list[bytes]:
    """The keys a case is sealed to: its recipients' and escrow, each once, in order."""
    keys: list[bytes] = []
    for key in [*table.public_keys_for(decision.recipients), *table.escrow_keys]:
        if key not in keys:
            keys.append(key)
    return keys


def issue(
    secret: ServerSecret,
    *,
    case_ref: str,
    decision: Decision,
    kids: Sequence[str],
    clear: Mapping[str, object],
    now: datetime,
) -> str:
    payload = {
        "id": b64e(secrets.token_bytes(ID_BYTES)),
        "case_ref": case_ref,
        "exp": int((now + LIFETIME).timestamp()),
        "rule": decision.rule_id,
        "table_version": decision.table_version,
        "kids": list(kids),
        "clear": dict(clear),
    }
    body = _b64url(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signed = TOKEN_PREFIX + body
    return signed + "." + _b64url(_mac(secret, signed))


def read(
    secret: ServerSecret, token: str, *, now: datetime, translations: NullTranslations
) -> Prepared:
    """The signed content of `token`; a 422 when forged, damaged or expired."""
    invalid = refusal("prepared_invalid", ["prepared"], translations)
    signed, _, mac_text = token.rpartition(".")
    if not signed.startswith(TOKEN_PREFIX):
        raise invalid
    mac = _b64url_decode(mac_text)
    if mac is None or not hmac.compare_digest(mac, _mac(secret, signed)):
        raise invalid
    prepared = _parse_payload(_b64url_decode(signed[len(TOKEN_PREFIX) :]))
    if prepared is None:
        raise invalid  # signed by us, so never in practice: a guard, not a path
    if now >= prepared.expires_at:
        raise refusal("prepared_expired", ["prepared"], translations)
    return prepared


def check_sealed(
    secret: ServerSecret,
    prepared: Prepared,
    *,
    clear: Mapping[str, object],
    envelope: Mapping[str, Any],
    translations: NullTranslations,
) -> Presealed:
    """The clear fields are the signed ones; the envelope is v1 to exactly the prepared kids."""
    for name, value in clear.items():
        if prepared.clear.get(name) != value:
            raise refusal("prepared_mismatch", [name], translations)
    try:
        validate_envelope_shape(envelope)
    except CryptoError:
        raise refusal("envelope_invalid", ["envelope"], translations) from None
    kids = [entry["kid"] for entry in envelope["recipients"]]
    if sorted(kids) != sorted(prepared.kids):
        raise refusal("envelope_recipients", ["envelope", "recipients"], translations)
    text = json.dumps(dict(envelope), separators=(",", ":"))
    return Presealed(prepared, text, secret.keyed_hash(USED_PURPOSE, prepared.token_id))


def check_decision(
    prepared: Prepared, decision: Decision, kids: Sequence[str], translations: NullTranslations
) -> None:
    """The active table still decides what was signed (else the envelope fits no one)."""
    same = (decision.rule_id, decision.table_version) == (prepared.rule_id, prepared.table_version)
    if not same or list(kids) != list(prepared.kids):
        raise refusal("prepared_stale", ["prepared"], translations)


def was_used(session: Session, presealed: Presealed) -> bool:
    """A cheap early look (the insert in `mark_used` is what decides)."""
    found = session.scalar(
        select(UsedPreparedToken.id_hash).where(UsedPreparedToken.id_hash == presealed.id_hash)
    )
    return found is not None


def mark_used(session: Session, presealed: Presealed, translations: NullTranslations) -> None:
    """Record the token in the caller's transaction; a 422 when another request did first.

    Its own savepoint, so the unique-key failure rolls back this insert alone and
    surfaces as the refusal, not as a collision the service would retry.
    """
    try:
        with session.begin_nested():
            session.add(
                UsedPreparedToken(
                    id_hash=presealed.id_hash, expires_at=presealed.prepared.expires_at
                )
            )
            session.flush()
    except IntegrityError:
        raise refusal("prepared_used", ["prepared"], translations) from None


def purge_expired(session: Session, now: datetime) -> int:
    """Forget used tokens once they would be refused as expired anyway."""
    statement = delete(UsedPreparedToken).where(UsedPreparedToken.expires_at <= now)
    count: int = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return count


def _mac(secret: ServerSecret, signed: str) -> bytes:
    return secret.keyed_hash(SIGN_PURPOSE, signed.encode("ascii"))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64url_decode(text: str) -> bytes | None:
    if not text.isascii() or "=" in text:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _parse_payload(raw: bytes | None) -> Prepared | None:
    if raw is None:
        return None
    try:
        payload: Any = json.loads(raw.decode("utf-8"))
        token_id = base64.b64decode(payload["id"], validate=True)
        return Prepared(
            token_id=token_id,
            case_ref=str(payload["case_ref"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            rule_id=str(payload["rule"]),
            table_version=str(payload["table_version"]),
            kids=tuple(str(kid) for kid in payload["kids"]),
            clear=dict(payload["clear"]),
        )
    except (ValueError, TypeError, KeyError, binascii.Error, AttributeError):
        return None


def kids_of(keys: Sequence[bytes]) -> list[str]:
    return [kid_of(key) for key in keys]
