"""The browser crypto module (intake/static/js) in a real Chromium, against crypto/ in Python.

The app serves /static as in production; the harness page (tests/crypto/browser,
never shipped) is answered by a Playwright route on the same origin, with the
strict staff-page policy plus 'wasm-unsafe-eval'. Python seals, the page opens,
and the other way round; error texts are compared with Python's.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, Page, Route
from testkit.browser import ThreadedServer, chromium, routed_server
from testkit.databases import SqliteTemplates
from testkit.keys import Keyring

from crypto.envelope import b64e, case_aad, open_envelope, seal, validate_envelope_shape
from crypto.errors import EnvelopeError, KeyFileError
from crypto.kdf import KEYFILE_COST, KdfCost
from crypto.keys import KeyPair, generate_keypair, read_private_key_file, write_private_key_file
from crypto.receipt import derive_receipt_keys, new_receipt, open_with_keypair
from intake.cli import main as intake_main
from intake.http.middleware import CSP

pytestmark = pytest.mark.browser

HARNESS = Path(__file__).parent / "browser"
STATIC = Path(__file__).resolve().parents[2] / "intake" / "static"
STRICT_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
NO_WASM_CSP = CSP
CASE_REF = "KE-2026-000777"
PASSPHRASE = "correct horse ✓ قفل battery"
SECRET = "He asked for sex before he would give us the food vouchers"
NOT_OPENED = "EnvelopeError: envelope does not open with this key and case reference"
WRONG_PASSPHRASE = "KeyFileError: wrong passphrase or damaged key file"

# Playwright compiles this through the DevTools protocol, which the page's CSP
# does not govern; the page itself never evaluates a string.
_RUN = """async (arg) => {
  const h = globalThis.harness;
  try { return { value: await (async () => { BODY })() }; }
  catch (error) { return { error: `${error.name}: ${error.message}` }; }
}"""


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_templates: SqliteTemplates, keyring: Keyring
) -> Iterator[ThreadedServer]:
    with routed_server(tmp_path_factory.mktemp("crypto"), _sqlite_templates, keyring) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


class Harness:
    """The harness page under a given CSP, with every console error and CSP violation."""

    def __init__(self, browser: Browser, server: ThreadedServer, csp: str) -> None:
        self.context = browser.new_context()
        self.page: Page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.route(f"{server.url}/harness/*", lambda route: _serve_harness(route, csp))
        self.page.goto(f"{server.url}/harness/harness.html")
        self.page.wait_for_function("document.body.dataset.ready !== undefined")
        self.loaded = self.page.evaluate("document.body.dataset.ready") == "yes"

    def run(self, body: str, arg: object = None) -> dict[str, Any]:
        """Run `body` (an async function body) in the page: {"value": …} or {"error": "Name: …"}."""
        result: dict[str, Any] = self.page.evaluate(_RUN.replace("BODY", body), arg)
        return result

    def value(self, body: str, arg: object = None) -> Any:
        result = self.run(body, arg)
        assert "error" not in result, result["error"]
        return result.get("value")

    def error(self, body: str, arg: object = None) -> str:
        result = self.run(body, arg)
        assert "error" in result, f"expected an error, got {result!r}"
        message: str = result["error"]
        return message

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("globalThis.harness.violations")
        return found


def _serve_harness(route: Route, csp: str) -> None:
    name = route.request.url.rsplit("/", 1)[-1]
    path = HARNESS / name
    if name not in {"harness.html", "harness.js"}:
        route.fulfill(status=404, body="")
        return
    kind = "text/html" if name.endswith(".html") else "text/javascript"
    route.fulfill(
        status=200,
        body=path.read_bytes(),
        headers={
            "content-type": f"{kind}; charset=utf-8",
            "content-security-policy": csp,
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        },
    )


@pytest.fixture
def harness(browser: Browser, server: ThreadedServer) -> Iterator[Harness]:
    page = Harness(browser, server, STRICT_CSP)
    try:
        assert page.loaded, page.console_errors
        yield page
        assert page.console_errors == []
        assert page.violations() == []
    finally:
        page.context.close()


def _pair(keypair: KeyPair) -> dict[str, str]:
    return {"sk": keypair.private_key.hex(), "pk": keypair.public_key.hex()}


# Builds a KeyPair in the page from arg.pair = {"sk": hex, "pk": hex}.
_KEYPAIR = (
    "const keyPair = { privateKey: h.fromHex(arg.pair.sk), publicKey: h.fromHex(arg.pair.pk) };"
)


# (a) the published vector -------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1], ids=["focal_point_a", "escrow_b"])
def test_vector_opens_in_the_page_with_each_recipient(
    harness: Harness, vector: dict[str, Any], index: int
) -> None:
    recipient = vector["recipients"][index]
    pair = {"sk": recipient["private_key_hex"], "pk": recipient["public_key_hex"]}
    opened = harness.value(
        _KEYPAIR
        + "return h.envelope.openEnvelope(arg.envelope, { keyPair, caseRef: arg.caseRef });",
        {"pair": pair, "envelope": vector["envelope"], "caseRef": vector["case_ref"]},
    )
    assert opened == vector["content"]


def test_vector_kids_aad_and_plaintext_are_computed_alike(
    harness: Harness, vector: dict[str, Any]
) -> None:
    computed = harness.value(
        """return {
          kids: await Promise.all(arg.keys.map((key) => h.keys.kidOf(key))),
          aad: h.hex(h.envelope.caseAad(arg.caseRef)),
          plaintext: h.hex(h.envelope.encodeContent(arg.content)),
        };""",
        {
            "keys": [r["public_key_b64"] for r in vector["recipients"]],
            "caseRef": vector["case_ref"],
            "content": vector["content"],
        },
    )
    assert computed == {
        "kids": [r["kid"] for r in vector["recipients"]],
        "aad": vector["aad_hex"],
        "plaintext": vector["plaintext_hex"],
    }


def _vector_variants(vector: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(name, envelope, case_ref) that must not open, each for its own reason."""
    good = vector["envelope"]

    def changed(**fields: object) -> dict[str, Any]:
        return {**copy.deepcopy(good), **fields}

    ct = bytearray(bytes.fromhex(vector["ct_hex"]))
    ct[5] ^= 0x01
    recipients = copy.deepcopy(good["recipients"])
    sealed = recipients[0]["sealed_key"]
    recipients[0]["sealed_key"] = ("A" if sealed[0] != "A" else "B") + sealed[1:]
    extra = changed()
    extra["note"] = "x"
    return [
        ("another case_ref", good, "KE-2026-000124"),
        ("changed ct byte", changed(ct=b64e(bytes(ct))), vector["case_ref"]),
        ("changed sealed key", changed(recipients=recipients), vector["case_ref"]),
        ("extra field", extra, vector["case_ref"]),
        ("version 2", changed(v=2), vector["case_ref"]),
        ("version true", changed(v=True), vector["case_ref"]),
        ("other aead", changed(aead="aes256gcm"), vector["case_ref"]),
        ("short nonce", changed(nonce=b64e(bytes(23))), vector["case_ref"]),
        ("unpadded nonce", changed(nonce=good["nonce"].rstrip("=") + "A"), vector["case_ref"]),
        ("stray bits", changed(ct=good["ct"][:-2] + "n="), vector["case_ref"]),
        ("short ct", changed(ct=b64e(bytes(15))), vector["case_ref"]),
        ("no recipients", changed(recipients=[]), vector["case_ref"]),
        (
            "upper-case kid",
            changed(recipients=[{**recipients[1], "kid": good["recipients"][1]["kid"].upper()}]),
            vector["case_ref"],
        ),
        ("duplicate kid", changed(recipients=[good["recipients"][0]] * 2), vector["case_ref"]),
        (
            "entry extra",
            changed(recipients=[{**good["recipients"][0], "x": 1}]),
            vector["case_ref"],
        ),
        ("not an object", [good], vector["case_ref"]),
    ]


def test_vector_fails_in_the_page_exactly_as_in_python(
    harness: Harness, vector: dict[str, Any]
) -> None:
    recipient = vector["recipients"][0]
    private_key = bytes.fromhex(recipient["private_key_hex"])
    pair = {"sk": recipient["private_key_hex"], "pk": recipient["public_key_hex"]}
    messages = set()
    for name, envelope, case_ref in _vector_variants(vector):
        with pytest.raises(EnvelopeError) as python:
            open_envelope(envelope, private_key=private_key, aad=case_aad(case_ref))
        page = harness.error(
            _KEYPAIR
            + "return h.envelope.openEnvelope(arg.envelope, { keyPair, caseRef: arg.caseRef });",
            {"pair": pair, "envelope": envelope, "caseRef": case_ref},
        )
        assert page == f"EnvelopeError: {python.value}", name
        messages.add(page)
    assert len(messages) >= 10  # the variants reach the checks one by one


def test_vector_has_no_entry_for_another_key(harness: Harness, vector: dict[str, Any]) -> None:
    error = harness.error(
        _KEYPAIR
        + "return h.envelope.openEnvelope(arg.envelope, { keyPair, caseRef: arg.caseRef });",
        {
            "pair": _pair(generate_keypair()),
            "envelope": vector["envelope"],
            "caseRef": vector["case_ref"],
        },
    )
    assert error == "EnvelopeError: envelope has no entry for this key"


# (b) sealed in the page, opened in Python ---------------------------------------------

_SEAL = (
    "return h.envelope.sealEnvelope(arg.content, { publicKeys: arg.keys, caseRef: arg.caseRef });"
)
_ADD = _KEYPAIR + (
    "return h.envelope.addRecipient(arg.envelope,"
    " { keyPair, publicKey: arg.publicKey, caseRef: arg.caseRef });"
)


def test_envelope_sealed_in_the_page_opens_in_python_with_its_case_ref_only(
    harness: Harness, vector: dict[str, Any], alice: KeyPair, bob: KeyPair
) -> None:
    keys = [b64e(alice.public_key), b64e(bob.public_key), b64e(alice.public_key)]
    envelope = harness.value(
        _SEAL, {"content": vector["content"], "keys": keys, "caseRef": CASE_REF}
    )
    validate_envelope_shape(envelope)
    assert [entry["kid"] for entry in envelope["recipients"]] == [alice.kid, bob.kid]
    for keypair in (alice, bob):
        opened = open_envelope(envelope, private_key=keypair.private_key, aad=case_aad(CASE_REF))
        assert opened == vector["content"]
    with pytest.raises(EnvelopeError, match="does not open"):
        open_envelope(envelope, private_key=alice.private_key, aad=case_aad("KE-2026-000778"))
    again = harness.value(_SEAL, {"content": vector["content"], "keys": keys, "caseRef": CASE_REF})
    assert again["nonce"] != envelope["nonce"]
    assert again["recipients"][0]["sealed_key"] != envelope["recipients"][0]["sealed_key"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("return { narrative: arg.secret, n: NaN };", "content is not serialisable as UTF-8 JSON"),
        ("return { narrative: arg.secret, n: 1n };", "content is not serialisable as UTF-8 JSON"),
        (
            "return { narrative: arg.secret, x: undefined };",
            "content is not serialisable as UTF-8 JSON",
        ),
        (
            "return { narrative: arg.secret + '\\ud800' };",
            "content is not serialisable as UTF-8 JSON",
        ),
        ("return [arg.secret];", "content must be a mapping with string keys"),
        (
            "return new Map([['narrative', arg.secret]]);",
            "content must be a mapping with string keys",
        ),
    ],
    ids=["nan", "bigint", "undefined", "lone-surrogate", "array", "map"],
)
def test_page_refuses_content_python_would_refuse_without_quoting_it(
    harness: Harness, alice: KeyPair, content: str, expected: str
) -> None:
    error = harness.error(
        f"const content = (() => {{ {content} }})();"
        "return h.envelope.sealEnvelope(content, { publicKeys: arg.keys, caseRef: arg.caseRef });",
        {"secret": SECRET, "keys": [b64e(alice.public_key)], "caseRef": CASE_REF},
    )
    assert error == f"CryptoError: {expected}"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([], "at least one public key is required"),
        (["AAAA"], "public key must be base64 of 32 bytes"),
        ([b64e(bytes(32))], "public key is not a usable X25519 key"),
        (None, "publicKeys must be a list of base64 public keys"),
    ],
    ids=["no-key", "short-key", "low-order-key", "not-a-list"],
)
def test_page_refuses_bad_public_keys(harness: Harness, keys: Any, expected: str) -> None:
    error = harness.error(
        _SEAL, {"content": {"narrative": SECRET}, "keys": keys, "caseRef": CASE_REF}
    )
    assert error == f"CryptoError: {expected}"


def test_page_refuses_an_empty_case_ref_everywhere(
    harness: Harness, vector: dict[str, Any], alice: KeyPair
) -> None:
    recipient = vector["recipients"][0]
    arg = {
        "content": {"narrative": SECRET},
        "keys": [b64e(alice.public_key)],
        "caseRef": "",
        "envelope": vector["envelope"],
        "publicKey": b64e(alice.public_key),
        "pair": {"sk": recipient["private_key_hex"], "pk": recipient["public_key_hex"]},
    }
    opening = "return h.envelope.openEnvelope(arg.envelope, { keyPair, caseRef: arg.caseRef });"
    for body in (_SEAL, _KEYPAIR + opening, _ADD):
        assert harness.error(body, arg) == "CryptoError: case_ref must be a non-empty string"


# (c) a recipient added in the page ----------------------------------------------------


def test_recipient_added_in_the_page_opens_in_python(
    harness: Harness, alice: KeyPair, bob: KeyPair, mallory: KeyPair
) -> None:
    content = {"narrative": SECRET, "victim": {"age": 14}}
    envelope = seal(content, public_keys=[alice.public_key], aad=case_aad(CASE_REF))
    entry = harness.value(
        _ADD,
        {
            "pair": _pair(alice),
            "envelope": envelope,
            "publicKey": b64e(bob.public_key),
            "caseRef": CASE_REF,
        },
    )
    assert set(entry) == {"kid", "sealed_key"}
    assert entry["kid"] == bob.kid
    granted = {**envelope, "recipients": [*cast(list[object], envelope["recipients"]), entry]}
    assert open_envelope(granted, private_key=bob.private_key, aad=case_aad(CASE_REF)) == content
    with pytest.raises(EnvelopeError):
        open_envelope(envelope, private_key=bob.private_key, aad=case_aad(CASE_REF))
    with pytest.raises(EnvelopeError, match="no entry"):
        open_envelope(granted, private_key=mallory.private_key, aad=case_aad(CASE_REF))


def test_adding_a_present_recipient_gives_nothing_to_add(harness: Harness, alice: KeyPair) -> None:
    envelope = seal({"narrative": SECRET}, public_keys=[alice.public_key], aad=case_aad(CASE_REF))
    arg = {
        "pair": _pair(alice),
        "envelope": envelope,
        "publicKey": b64e(alice.public_key),
        "caseRef": CASE_REF,
    }
    assert harness.run(_ADD, arg) == {"value": None}


def test_page_forwards_no_data_key_of_another_case(
    harness: Harness, alice: KeyPair, bob: KeyPair
) -> None:
    envelope = seal({"narrative": SECRET}, public_keys=[alice.public_key], aad=case_aad(CASE_REF))
    other = seal({"narrative": "other"}, public_keys=[alice.public_key], aad=case_aad("SO-1"))
    doctored = {**envelope, "recipients": other["recipients"]}
    base = {"pair": _pair(alice), "publicKey": b64e(bob.public_key)}
    assert harness.error(_ADD, {**base, "envelope": doctored, "caseRef": CASE_REF}) == NOT_OPENED
    assert harness.error(_ADD, {**base, "envelope": envelope, "caseRef": "SO-1"}) == NOT_OPENED


# (d) key files, both ways -------------------------------------------------------------

_OPEN_KEY_FILE = """const pair = await h.keyfile.openKeyFile(arg.text, arg.passphrase);
return { sk: h.hex(pair.privateKey), pk: h.hex(pair.publicKey), kid: pair.kid };"""


def test_key_file_written_by_python_opens_in_the_page(
    harness: Harness, tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    path = tmp_path / "alice.key"
    write_private_key_file(path, alice, PASSPHRASE, cost=kdf_cost)
    text = path.read_text(encoding="utf-8")
    opened = harness.value(_OPEN_KEY_FILE, {"text": text, "passphrase": PASSPHRASE})
    assert opened == {**_pair(alice), "kid": alice.kid}
    described = harness.value("return h.keyfile.describeKeyFile(arg);", text)
    assert described == {"kid": alice.kid, "publicKey": b64e(alice.public_key)}


def test_inbox_flow_opens_a_case_with_a_key_file_then_forgets_the_key(
    harness: Harness, tmp_path: Path, alice: KeyPair, bob: KeyPair, kdf_cost: KdfCost
) -> None:
    path = tmp_path / "alice.key"
    write_private_key_file(path, alice, PASSPHRASE, cost=kdf_cost)
    content = {"narrative": SECRET, "location": None}
    envelope = seal(content, public_keys=[bob.public_key, alice.public_key], aad=case_aad(CASE_REF))
    result = harness.value(
        """const keyPair = await h.keyfile.openKeyFile(arg.text, arg.passphrase);
        const options = { keyPair, caseRef: arg.caseRef };
        const opened = await h.envelope.openEnvelope(arg.envelope, options);
        h.keys.forgetKeyPair(keyPair);
        const wiped = keyPair.privateKey.every((byte) => byte === 0);
        const after = await h.envelope.openEnvelope(arg.envelope, options).catch((e) => e.message);
        return { opened, wiped, after };""",
        {
            "text": path.read_text(encoding="utf-8"),
            "passphrase": PASSPHRASE,
            "envelope": envelope,
            "caseRef": CASE_REF,
        },
    )
    assert result == {
        "opened": content,
        "wiped": True,
        "after": "envelope has no entry for this key",
    }


@pytest.mark.parametrize(
    "passphrase", [PASSPHRASE + " ", PASSPHRASE.upper(), "x"], ids=["space", "case", "other"]
)
def test_wrong_passphrase_gives_a_clear_error_without_the_passphrase(
    harness: Harness, tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost, passphrase: str
) -> None:
    path = tmp_path / "alice.key"
    write_private_key_file(path, alice, PASSPHRASE, cost=kdf_cost)
    arg = {"text": path.read_text(encoding="utf-8"), "passphrase": passphrase}
    assert harness.error(_OPEN_KEY_FILE, arg) == WRONG_PASSPHRASE


def _key_file_variants(document: dict[str, Any]) -> list[tuple[str, str]]:
    def changed(**fields: object) -> str:
        return json.dumps({**document, **fields})

    missing = dict(document)
    del missing["salt"]
    return [
        ("not json", "{"),
        ("a list", json.dumps([document])),
        ("version 2", changed(v=2)),
        ("other kdf", changed(kdf="scrypt")),
        ("another kid", changed(kid="0" * 32)),
        ("short salt", changed(salt=b64e(bytes(15)))),
        ("no salt", json.dumps(missing)),
        ("opslimit 0", changed(opslimit=0)),
        ("memlimit text", changed(memlimit="8192")),
    ]


def test_malformed_key_files_are_refused_by_both(
    harness: Harness, tmp_path: Path, alice: KeyPair, kdf_cost: KdfCost
) -> None:
    path = tmp_path / "alice.key"
    write_private_key_file(path, alice, PASSPHRASE, cost=kdf_cost)
    document = json.loads(path.read_text(encoding="utf-8"))
    for index, (name, text) in enumerate(_key_file_variants(document)):
        variant = tmp_path / f"variant-{index}.key"
        variant.write_text(text, encoding="utf-8")
        with pytest.raises(KeyFileError, match="malformed key file"):
            read_private_key_file(variant, PASSPHRASE)
        page = harness.error(_OPEN_KEY_FILE, {"text": text, "passphrase": PASSPHRASE})
        assert page == "KeyFileError: malformed key file", name


_CREATE = "return h.keyfile.createKeyFile(arg.passphrase, arg.cost ? { cost: arg.cost } : {});"


def test_key_file_made_in_the_page_opens_with_python(
    harness: Harness, tmp_path: Path, kdf_cost: KdfCost
) -> None:
    cost = {"opslimit": kdf_cost.opslimit, "memlimit": kdf_cost.memlimit}
    made = harness.value(_CREATE, {"passphrase": PASSPHRASE, "cost": cost})
    path = tmp_path / "page.key"
    path.write_text(made["text"], encoding="utf-8")
    document = json.loads(made["text"])
    assert list(document) == [
        "v", "kdf", "opslimit", "memlimit", "salt", "nonce", "box", "public_key", "kid",
    ]  # fmt: skip
    assert (document["opslimit"], document["memlimit"]) == (kdf_cost.opslimit, kdf_cost.memlimit)
    keypair = read_private_key_file(path, PASSPHRASE)
    assert (keypair.kid, b64e(keypair.public_key)) == (made["kid"], made["publicKey"])
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        read_private_key_file(path, PASSPHRASE + "!")
    other = harness.value(_CREATE, {"passphrase": PASSPHRASE, "cost": cost})
    assert other["kid"] != made["kid"]
    assert json.loads(other["text"])["salt"] != document["salt"]


def test_key_file_made_in_the_page_has_the_keyfile_cost_and_opens_a_case_with_the_cli(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default cost (MODERATE, 256 MiB) runs in the page; `intake case decrypt` reads it."""
    made = harness.value(_CREATE, {"passphrase": PASSPHRASE})
    document = json.loads(made["text"])
    assert (document["opslimit"], document["memlimit"]) == (
        KEYFILE_COST.opslimit,
        KEYFILE_COST.memlimit,
    )
    content = {"narrative": SECRET, "incident_date": "2026-10-30"}
    envelope = harness.value(
        _SEAL, {"content": content, "keys": [made["publicKey"]], "caseRef": CASE_REF}
    )
    (tmp_path / "page.key").write_text(made["text"], encoding="utf-8")
    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n", encoding="utf-8")
    (tmp_path / "case.json").write_text(
        json.dumps({"case_ref": CASE_REF, "envelope": envelope}), encoding="utf-8"
    )
    capsys.readouterr()
    code = intake_main(
        [
            "case", "decrypt", "--key", str(tmp_path / "page.key"),
            "--passphrase-file", str(tmp_path / "passphrase"), str(tmp_path / "case.json"),
        ]
    )  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out) == content


def test_page_refuses_an_empty_or_ill_formed_passphrase(
    harness: Harness, kdf_cost: KdfCost
) -> None:
    cost = {"opslimit": kdf_cost.opslimit, "memlimit": kdf_cost.memlimit}
    assert harness.error(_CREATE, {"passphrase": "", "cost": cost}) == (
        "KeyFileError: passphrase must be a non-empty string"
    )
    error = harness.error(
        "return h.keyfile.createKeyFile(arg.passphrase + '\\udc00', { cost: arg.cost });",
        {"passphrase": PASSPHRASE, "cost": cost},
    )
    assert error == "KeyFileError: passphrase is not valid Unicode"
    too_cheap = {"opslimit": 0, "memlimit": kdf_cost.memlimit}
    assert harness.error(_CREATE, {"passphrase": PASSPHRASE, "cost": too_cheap}) == (
        "CryptoError: Argon2id cost is outside libsodium's range"
    )


# (e) messages to the reporter ---------------------------------------------------------


def test_seal_to_public_key_opens_with_the_receipt_key_pair(
    harness: Harness, kdf_cost: KdfCost
) -> None:
    keys = derive_receipt_keys(
        new_receipt(), salt=bytes(range(16)), server_secret=b"s" * 32, cost=kdf_cost
    )
    text = "Nous avons reçu votre signalement — شكرا 🌍\nline 2"
    public = b64e(keys.keypair.public_key)
    body = "return h.receipt.sealToPublicKey(arg.text, arg.key);"
    sealed = harness.value(body, {"text": text, "key": public})
    assert open_with_keypair(sealed, keys.keypair) == text
    assert harness.value(body, {"text": text, "key": public}) != sealed
    with pytest.raises(EnvelopeError):
        open_with_keypair(sealed, generate_keypair())
    ill_formed = harness.error(
        "return h.receipt.sealToPublicKey(arg.text + '\\ud800', arg.key);",
        {"text": SECRET, "key": public},
    )
    assert ill_formed == "CryptoError: message is not valid Unicode"


# (f) the page under the strict policy, and how the files are served -------------------


def test_strict_policy_is_the_staff_policy_plus_wasm_only() -> None:
    assert "script-src 'self' 'wasm-unsafe-eval';" in STRICT_CSP
    assert "connect-src 'self';" in STRICT_CSP
    assert "unsafe-inline" not in STRICT_CSP
    assert "'unsafe-eval'" not in STRICT_CSP


def test_page_loads_under_the_strict_policy_without_violations(harness: Harness) -> None:
    version = harness.value("return (await h.ready()).SODIUM_VERSION_STRING;")
    assert version == "1.0.22"
    assert harness.value("return typeof WebAssembly.instantiate;") == "function"
    # The fixture also asserts no console error and no CSP violation at teardown.


def test_policy_without_wasm_unsafe_eval_is_seen_to_block_the_webassembly(
    browser: Browser, server: ThreadedServer
) -> None:
    """The control for the test above: the violation listener and the route's CSP work."""
    page = Harness(browser, server, NO_WASM_CSP)
    try:
        assert any(v.startswith("script-src") for v in page.violations()), page.violations()
        assert any("WebAssembly" in message for message in page.console_errors)
        assert not page.loaded
        assert page.error("return h.ready();") == (
            "CryptoError: libsodium did not start in this page"
        )
    finally:
        page.context.close()


def _served_files() -> list[Path]:
    return sorted(
        path
        for folder in ("js", "vendor")
        for path in (STATIC / folder).iterdir()
        if path.suffix in {".js", ".wasm"}
    )


def test_modules_and_vendored_files_are_served_with_their_mime_types(
    server: ThreadedServer,
) -> None:
    expected = {".js": {"text/javascript", "application/javascript"}, ".wasm": {"application/wasm"}}
    files = _served_files()
    assert {path.name for path in files} >= {"sodium.js", "envelope.js", "libsodium-sumo.js"}
    for path in files:
        url = f"{server.url}/static/{path.parent.name}/{path.name}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- loopback
            assert response.read() == path.read_bytes()
            kind = response.headers["content-type"].split(";")[0]
            assert kind in expected[path.suffix], (path.name, kind)
            assert response.headers["x-content-type-options"] == "nosniff"
    assert mimetypes.guess_type("x.wasm")[0] == "application/wasm"
