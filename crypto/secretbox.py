"""Values the server itself must read back later, sealed with a key from the secret file.

Used for what cannot be sealed to a focal point because the server needs it
again: an SMS conversation's unfinished account, the stored reply to a
processed MessageSid, the number to answer an SMS reporter on. A database copy
alone opens none of it; the secret file and the database together do, which
is the honest limit of any server that must send an SMS.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.secret

from crypto.server_secret import ServerSecret

PURPOSE = "server-draft"


class DraftError(Exception):
    """A sealed value that does not open (damaged, or another secret file)."""


def seal_draft(secret: ServerSecret, data: bytes) -> bytes:
    return bytes(nacl.secret.SecretBox(secret.subkey(PURPOSE)).encrypt(data))


def open_draft(secret: ServerSecret, blob: bytes) -> bytes:
    try:
        return bytes(nacl.secret.SecretBox(secret.subkey(PURPOSE)).decrypt(blob))
    except nacl.exceptions.CryptoError:
        raise DraftError("sealed server value does not open") from None
