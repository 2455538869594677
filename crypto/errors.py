"""The one error family of `crypto`.

Messages are fixed strings (at most a file path): they never contain key
material, data keys, receipts or plaintext, so they are safe to log or show.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class: bad input to a crypto function, or a failed operation."""


class EnvelopeError(CryptoError):
    """An envelope is malformed, tampered with, or not sealed to this key."""


class KeyFileError(CryptoError):
    """A key or passphrase file is unreadable, malformed, or the passphrase is wrong."""
