"""Property tests: round trips over arbitrary content and recipient sets; tampering.

Tampering must raise EnvelopeError every time: never return content, garbage
or not.
"""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.envelope import b64d, b64e, case_aad, open_envelope, seal
from crypto.errors import EnvelopeError
from crypto.keys import KeyPair, keypair_from_seed

# A fixed pool: hypothesis draws recipient sets from it (function-scoped
# fixtures do not mix with @given).
POOL = [keypair_from_seed(bytes([i]) * 32) for i in range(1, 8)]
CASE_REF = "KE-2026-000042"
AAD = case_aad(CASE_REF)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=25,
)
contents = st.dictionaries(st.text(), json_values, max_size=8)
# Tampering does not depend on the content's shape; small content keeps it fast.
small_contents = st.dictionaries(st.text(max_size=8), json_scalars, min_size=1, max_size=3)
recipient_sets = st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=5, unique=True)
case_refs = st.text(min_size=1).filter(lambda ref: ref != CASE_REF)

PROPERTY = settings(deadline=None, max_examples=200)


def _seal_to(indexes: list[int], content: dict[str, object]) -> dict[str, object]:
    return seal(content, public_keys=[POOL[i].public_key for i in indexes], aad=AAD)


def _entries(envelope: dict[str, object]) -> list[dict[str, str]]:
    recipients = envelope["recipients"]
    assert isinstance(recipients, list)
    return recipients


def _flip(text: str, index: int, mask: int) -> str:
    data = bytearray(b64d(text))
    data[index % len(data)] ^= mask
    return b64e(bytes(data))


def _fails_to_open(envelope: dict[str, object], keypair: KeyPair, aad: bytes = AAD) -> bool:
    try:
        open_envelope(envelope, private_key=keypair.private_key, aad=aad)
    except EnvelopeError:
        return True
    return False


@PROPERTY
@given(content=contents, indexes=recipient_sets, duplicate=st.booleans())
def test_every_recipient_opens_exactly_the_content(
    content: dict[str, object], indexes: list[int], duplicate: bool
) -> None:
    keys = [POOL[i].public_key for i in indexes]
    envelope = seal(content, public_keys=keys + keys[:1] if duplicate else keys, aad=AAD)
    assert [e["kid"] for e in _entries(envelope)] == [POOL[i].kid for i in indexes]
    for i in indexes:
        assert open_envelope(envelope, private_key=POOL[i].private_key, aad=AAD) == content
    for i in set(range(len(POOL))) - set(indexes):
        assert _fails_to_open(envelope, POOL[i])


@PROPERTY
@given(
    content=small_contents,
    indexes=recipient_sets,
    field=st.sampled_from(["nonce", "ct", "sealed_key"]),
    index=st.integers(min_value=0),
    mask=st.integers(min_value=1, max_value=255),
)
def test_any_flipped_byte_fails(
    content: dict[str, object], indexes: list[int], field: str, index: int, mask: int
) -> None:
    envelope = _seal_to(indexes, content)
    tampered = copy.deepcopy(envelope)
    if field == "sealed_key":
        for entry in _entries(tampered):
            entry["sealed_key"] = _flip(entry["sealed_key"], index, mask)
    else:
        tampered[field] = _flip(str(tampered[field]), index, mask)
    for i in indexes:
        assert _fails_to_open(tampered, POOL[i])


@PROPERTY
@given(
    content=small_contents,
    indexes=st.lists(st.sampled_from(range(len(POOL))), min_size=2, max_size=5, unique=True),
    rotate=st.integers(min_value=1, max_value=4),
)
def test_swapped_recipient_entries_fail(
    content: dict[str, object], indexes: list[int], rotate: int
) -> None:
    """Each kid keeps its place but gets another recipient's sealed key."""
    envelope = _seal_to(indexes, content)
    entries = _entries(envelope)
    shift = rotate % len(entries) or 1
    sealed = [e["sealed_key"] for e in entries]
    for entry, other in zip(entries, sealed[shift:] + sealed[:shift], strict=True):
        entry["sealed_key"] = other
    for i in indexes:
        assert _fails_to_open(envelope, POOL[i])


@PROPERTY
@given(content=small_contents, indexes=recipient_sets, other_ref=case_refs)
def test_another_case_ref_fails(
    content: dict[str, object], indexes: list[int], other_ref: str
) -> None:
    envelope = _seal_to(indexes, content)
    for i in indexes:
        assert _fails_to_open(envelope, POOL[i], aad=case_aad(other_ref))
