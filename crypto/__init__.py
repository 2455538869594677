"""End-to-end sealing for intake: a small facade over PyNaCl (libsodium).

`crypto.envelope` seals a case's sensitive fields into the versioned envelope
of SPEC section 5 (XChaCha20-Poly1305 under a per-case data key, the key
sealed to every recipient's X25519 public key) and opens it on a focal
point's own device; `crypto.keys` makes key pairs and passphrase-protected
private key files; `crypto.receipt` generates and normalises receipts and
derives their lookup value and key pair (SPEC section 8); `crypto.kdf` holds
Argon2id and keyed BLAKE2b with costs passed as parameters, so tests lower
them in a fixture rather than by patching. Every failure is a
`crypto.errors.CryptoError` whose message never carries key material or
plaintext. This package imports nothing at import time: import the submodule
you need.
"""
