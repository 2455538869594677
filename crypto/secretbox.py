"""Values the server itself must read back later, sealed with a key from the secret file.

Used for what cannot be sealed to a focal point because the server needs it
again: an SMS conversation's unfinished account, the stored reply to a
processed MessageSid, the number to answer an SMS reporter on, and the web
receipt on its one trip from `POST /report` to the receipt page (its own
sub-key, so a value sealed for one purpose never opens as another). A database
copy alone opens none of it; the secret file and the database together do,
which is the honest limit of any server that must send an SMS.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.secret

from crypto.server_secret import ServerSecret

PURPOSE = "server-draft"


class DraftError(Exception):
    """A sealed value that does not open (damaged, or another secret file or purpose)."""


def seal_for(secret: ServerSecret, purpose: str, data: bytes) -> bytes:
    """`data` sealed (XSalsa20-Poly1305, random nonce) with the sub-key of `purpose`."""
    return bytes(nacl.secret.SecretBox(secret.subkey(purpose)).encrypt(data))


def open_for(secret: ServerSecret, purpose: str, blob: bytes) -> bytes:
    try:
        return bytes(nacl.secret.SecretBox(secret.subkey(purpose)).decrypt(blob))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise DraftError("sealed server value does not open") from None


def seal_draft(secret: ServerSecret, data: bytes) -> bytes:
    return seal_for(secret, PURPOSE, data)


def open_draft(secret: ServerSecret, blob: bytes) -> bytes:
    return open_for(secret, PURPOSE, blob)
