"""Micro-benchmark: the envelope wrapper next to the raw PyNaCl calls it is built from.

Run: python bench/bench_crypto.py [--repeat 7] [--number 300]

Seals a 2 KB report to 3 keys and opens it, with `crypto.envelope` and with
the bare libsodium bindings, interleaved in the same run. Prints medians (µs
per operation) and the ratio to the raw primitives. "raw" is the primitives
alone on ready bytes; "raw+codec" adds the JSON and base64 work any real
caller must do, so wrapper/raw+codec is the cost of the facade itself:
structural validation and canonical base64 checks, key ids, and, when
opening, deriving the public key from the private key (one X25519 base-point
multiplication, which the raw path is handed for free). Also times one
receipt derivation at RECEIPT_COST next to its primitives.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable

import nacl
import nacl.bindings as raw

from crypto.envelope import case_aad, open_envelope, seal
from crypto.kdf import RECEIPT_COST
from crypto.keys import KeyPair, generate_keypair
from crypto.receipt import derive_receipt_keys

CASE_REF = "KE-2026-000123"
AAD = case_aad(CASE_REF)


def _report() -> dict[str, object]:
    """A sealed-fields object whose JSON is about 2 KB, with non-ASCII text."""
    sentence = "He asked for money before the food distribution — قال إنه يريد مالا. "
    narrative = (sentence * 40)[:1800]
    content: dict[str, object] = {
        "narrative": narrative,
        "incident_date": "2026-10-30",
        "location": "Kakuma camp, block 4",
        "reporter": {"name": "Amina", "contact": "+254700000000"},
        "victim": {"name": None, "age": 15, "sex": "female"},
    }
    return content


def _time(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def _measure(cases: dict[str, Callable[[], object]], repeat: int, number: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():  # interleaved, so drift hits every case alike
            samples[name].append(_time(fn, number))
    return {name: statistics.median(values) for name, values in samples.items()}


def _envelope_cases(keys: list[KeyPair]) -> dict[str, Callable[[], object]]:
    content = _report()
    public_keys = [kp.public_key for kp in keys]
    reader = keys[1]
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    envelope = seal(content, public_keys=public_keys, aad=AAD)
    data_key = raw.randombytes(32)
    nonce = raw.randombytes(24)
    ct = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, AAD, nonce, data_key)
    sealed = raw.crypto_box_seal(data_key, reader.public_key)

    def seal_raw() -> object:
        key, iv = raw.randombytes(32), raw.randombytes(24)
        out = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, AAD, iv, key)
        return out, [raw.crypto_box_seal(key, pk) for pk in public_keys]

    def seal_codec() -> object:
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        key, iv = raw.randombytes(32), raw.randombytes(24)
        out = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(body, AAD, iv, key)
        return base64.b64encode(out), [
            base64.b64encode(raw.crypto_box_seal(key, pk)) for pk in public_keys
        ]

    def open_raw() -> object:
        key = raw.crypto_box_seal_open(sealed, reader.public_key, reader.private_key)
        return raw.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, AAD, nonce, key)

    stored = json.loads(json.dumps(envelope))  # as read back from storage

    def open_codec() -> object:
        entry = stored["recipients"][1]
        key = raw.crypto_box_seal_open(
            base64.b64decode(entry["sealed_key"]), reader.public_key, reader.private_key
        )
        body = raw.crypto_aead_xchacha20poly1305_ietf_decrypt(
            base64.b64decode(stored["ct"]), AAD, base64.b64decode(stored["nonce"]), key
        )
        return json.loads(body)

    return {
        "seal wrapper": lambda: seal(content, public_keys=public_keys, aad=AAD),
        "seal raw+codec": seal_codec,
        "seal raw": seal_raw,
        "open wrapper": lambda: open_envelope(envelope, private_key=reader.private_key, aad=AAD),
        "open raw+codec": open_codec,
        "open raw": open_raw,
    }


def _receipt_cases() -> dict[str, Callable[[], object]]:
    salt, secret, receipt = bytes(16), bytes(range(32)), "4821067399120583"

    def derive_raw() -> object:
        k = raw.crypto_pwhash_alg(
            32,
            receipt.encode(),
            salt,
            RECEIPT_COST.opslimit,
            RECEIPT_COST.memlimit,
            raw.crypto_pwhash_ALG_ARGON2ID13,
        )
        lookup = raw.crypto_generichash_blake2b_salt_personal(
            k, key=secret, person=b"lookup".ljust(16, b"\0")
        )
        seed = raw.crypto_generichash_blake2b_salt_personal(
            k, key=secret, person=b"reporter".ljust(16, b"\0")
        )
        return lookup, raw.crypto_box_seed_keypair(seed)

    return {
        "receipt wrapper": lambda: derive_receipt_keys(
            receipt, salt=salt, server_secret=secret, cost=RECEIPT_COST
        ),
        "receipt raw": derive_raw,
    }


def _print_table(title: str, medians: dict[str, float], baselines: dict[str, str]) -> None:
    print(f"\n{title}")
    print(f"{'operation':<18} {'median µs':>12} {'vs raw':>8}")
    for name, value in medians.items():
        ratio = value / medians[baselines[name.split()[0]]]
        print(f"{name:<18} {value:>12.1f} {ratio:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (median taken)")
    parser.add_argument("--number", type=int, default=300, help="calls per repetition")
    parser.add_argument("--receipt-repeat", type=int, default=5)
    args = parser.parse_args()
    keys = [generate_keypair() for _ in range(3)]
    print(
        f"PyNaCl {nacl.__version__}; 2 KB report, 3 recipient keys; "
        f"{args.repeat} repetitions x {args.number} calls"
    )
    envelope = _measure(_envelope_cases(keys), args.repeat, args.number)
    _print_table("envelope v1", envelope, {"seal": "seal raw", "open": "open raw"})
    print(
        f"wrapper / raw+codec: seal {envelope['seal wrapper'] / envelope['seal raw+codec']:.2f}, "
        f"open {envelope['open wrapper'] / envelope['open raw+codec']:.2f}"
    )
    receipt = _measure(_receipt_cases(), args.receipt_repeat, 1)
    _print_table(
        f"receipt derivation at RECEIPT_COST (t={RECEIPT_COST.opslimit}, "
        f"m={RECEIPT_COST.memlimit // 2**20} MiB)",
        receipt,
        {"receipt": "receipt raw"},
    )


if __name__ == "__main__":
    main()
