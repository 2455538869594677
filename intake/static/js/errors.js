/**
 * The errors of the browser crypto module. Every message is a fixed text:
 * never a key, a passphrase, a sealed field or any other input.
 */

/** Any failure of the crypto module (bad input, a key that does not fit). */
export class CryptoError extends Error {
  /** @param {string} message a fixed text */
  constructor(message) {
    super(message);
    this.name = "CryptoError";
  }
}

/** An envelope that is malformed or does not open with this key and case. */
export class EnvelopeError extends CryptoError {
  /** @param {string} message a fixed text */
  constructor(message) {
    super(message);
    this.name = "EnvelopeError";
  }
}

/** A key file that is malformed, or a passphrase that does not open it. */
export class KeyFileError extends CryptoError {
  /** @param {string} message a fixed text */
  constructor(message) {
    super(message);
    this.name = "KeyFileError";
  }
}
