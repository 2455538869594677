/**
 * X25519 keys as the browser holds them, and their key id (SPEC section 5).
 *
 * Public keys travel as base64 of the raw 32 bytes; a key pair keeps raw
 * bytes, so the private key never becomes an (unerasable) string.
 */

import { b64decode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { ready } from "./sodium.js";

export const KEY_BYTES = 32;
const KID_BYTES = 16;

/**
 * @typedef {object} KeyPair
 * @property {Uint8Array} publicKey raw 32-byte X25519 public key
 * @property {Uint8Array} privateKey raw 32-byte X25519 private key
 * @property {string} kid key id of the public key
 */

/**
 * Key id: hex of BLAKE2b with a 16-byte digest over the raw public key.
 * @param {string} publicKeyB64 base64 of the raw 32-byte public key
 * @returns {Promise<string>}
 */
export async function kidOf(publicKeyB64) {
  return kidOfBytes(await ready(), publicKeyBytes(publicKeyB64));
}

/**
 * Overwrite the private key with zeros: for sign-out, idle time-out and pagehide.
 * @param {KeyPair | null | undefined} keyPair
 */
export function forgetKeyPair(keyPair) {
  if (keyPair?.privateKey instanceof Uint8Array) {
    keyPair.privateKey.fill(0);
  }
}

/**
 * @param {any} sodium the object `ready()` resolves to
 * @param {Uint8Array} publicKey raw 32 bytes
 * @returns {string}
 */
export function kidOfBytes(sodium, publicKey) {
  return sodium.to_hex(sodium.crypto_generichash(KID_BYTES, checkKey(publicKey, "public key")));
}

/**
 * Decode a public key as it travels; CryptoError unless it is base64 of 32 bytes.
 * @param {unknown} publicKeyB64
 * @returns {Uint8Array}
 */
export function publicKeyBytes(publicKeyB64) {
  try {
    return b64decode(publicKeyB64, KEY_BYTES);
  } catch {
    throw new CryptoError(`public key must be base64 of ${KEY_BYTES} bytes`);
  }
}

/**
 * @param {unknown} key
 * @param {string} what named in the error
 * @returns {Uint8Array}
 */
export function checkKey(key, what) {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new CryptoError(`${what} must be ${KEY_BYTES} bytes`);
  }
  return key;
}
