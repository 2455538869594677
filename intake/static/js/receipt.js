/**
 * Messages to a reporter (SPEC sections 8 and 10): crypto_box_seal of the
 * UTF-8 text to the case's receipt public key, as crypto/receipt.py
 * `seal_to_public_key`; the reporter opens it at follow-up with the receipt.
 */

import { b64encode, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { publicKeyBytes } from "./keys.js";
import { ready } from "./sodium.js";

/**
 * Seal `text` to a reporter's receipt public key.
 * @param {string} text the message
 * @param {string} receiptPublicKeyB64 base64 of the raw 32-byte public key
 * @returns {Promise<string>} base64 of the sealed box
 */
export async function sealToPublicKey(text, receiptPublicKeyB64) {
  const sodium = await ready();
  const publicKey = publicKeyBytes(receiptPublicKeyB64);
  if (typeof text !== "string") {
    throw new CryptoError("message must be a string");
  }
  const encoded = utf8Encode(text);
  if (encoded === null) {
    throw new CryptoError("message is not valid Unicode");
  }
  try {
    return b64encode(sodium.crypto_box_seal(encoded, publicKey));
  } catch {
    throw new CryptoError("public key is not a usable X25519 key");
  } finally {
    sodium.memzero(encoded);
  }
}
