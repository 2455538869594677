/**
 * Passphrase-protected private key files (SPEC section 3), as crypto/keys.py:
 *
 *   {"v": 1, "kdf": "argon2id", "opslimit": int, "memlimit": int,
 *    "salt": 16 bytes, "nonce": 24 bytes, "box": 48 bytes,
 *    "public_key": 32 bytes, "kid": hex}
 *
 * `box` is crypto_secretbox (XSalsa20-Poly1305) of the raw private key under
 * Argon2id (crypto_pwhash ALG_ARGON2ID13) of the passphrase's UTF-8 bytes
 * with the file's salt and limits. The passphrase is taken as typed, without
 * Unicode normalisation, exactly as `intake case decrypt` takes it.
 * Argon2id runs on the page's thread: at KEYFILE_COST about a second.
 */

import { b64decode, b64encode, utf8Encode } from "./bytes.js";
import { CryptoError, KeyFileError } from "./errors.js";
import { KEY_BYTES, kidOfBytes } from "./keys.js";
import { ready } from "./sodium.js";

export const KEYFILE_VERSION = 1;
/** libsodium's MODERATE limits, as crypto/kdf.py KEYFILE_COST. */
export const KEYFILE_COST = Object.freeze({ opslimit: 3, memlimit: 256 * 1024 * 1024 });
const SALT_BYTES = 16;
const BOX_NONCE_BYTES = 24;
const BOX_BYTES = KEY_BYTES + 16;
const MAX_FILE_CHARS = 64 * 1024;
// libsodium's Argon2id range (as PyNaCl's), then what libsodium.js can pass on.
const OPSLIMIT = { min: 1, max: 2 ** 32 - 1 };
const MEMLIMIT = { min: 8192, max: 2 ** 42 - 1024 };
const WRAPPER_MAX = 2 ** 31 - 1;
const WRONG_PASSPHRASE = "wrong passphrase or damaged key file";
const MALFORMED = "malformed key file";

/**
 * @typedef {import("./keys.js").KeyPair} KeyPair
 * @typedef {{opslimit: number, memlimit: number}} KdfCost
 * @typedef {{cost: KdfCost, salt: Uint8Array, nonce: Uint8Array, box: Uint8Array,
 *            publicKey: Uint8Array, kid: string}} KeyFields
 */

/**
 * The public half of a key file, without the passphrase (to show which key it is).
 * @param {string} text the file's content
 * @returns {Promise<{kid: string, publicKey: string}>}
 */
export async function describeKeyFile(text) {
  const fields = parseKeyFile(await ready(), text);
  return { kid: fields.kid, publicKey: b64encode(fields.publicKey) };
}

/**
 * Open a key file with its passphrase; KeyFileError when it does not open.
 * @param {string} text the file's content
 * @param {string} passphrase
 * @returns {Promise<KeyPair>} wipe it with forgetKeyPair when done
 */
export async function openKeyFile(text, passphrase) {
  const sodium = await ready();
  const fields = parseKeyFile(sodium, text);
  const boxKey = derive(sodium, passphrase, fields.salt, fields.cost);
  let privateKey;
  try {
    privateKey = sodium.crypto_secretbox_open_easy(fields.box, fields.nonce, boxKey);
  } catch {
    throw new KeyFileError(WRONG_PASSPHRASE);
  } finally {
    sodium.memzero(boxKey);
  }
  if (!sodium.memcmp(sodium.crypto_scalarmult_base(privateKey), fields.publicKey)) {
    sodium.memzero(privateKey);
    throw new KeyFileError(WRONG_PASSPHRASE);
  }
  return { publicKey: fields.publicKey, privateKey, kid: fields.kid };
}

/**
 * A new key pair, its private key protected by `passphrase`, as a key file
 * readable by `intake case decrypt`. The private key is wiped before returning.
 * @param {string} passphrase
 * @param {{cost?: KdfCost}} [options] KEYFILE_COST unless given (tests lower it)
 * @returns {Promise<{text: string, kid: string, publicKey: string}>}
 */
export async function createKeyFile(passphrase, { cost = KEYFILE_COST } = {}) {
  const sodium = await ready();
  const checkedCost = checkCost(cost, CryptoError, "Argon2id cost is outside libsodium's range");
  const salt = sodium.randombytes_buf(SALT_BYTES);
  const nonce = sodium.randombytes_buf(BOX_NONCE_BYTES);
  const boxKey = derive(sodium, passphrase, salt, checkedCost);
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  try {
    const keyFile = {
      v: KEYFILE_VERSION,
      kdf: "argon2id",
      opslimit: checkedCost.opslimit,
      memlimit: checkedCost.memlimit,
      salt: b64encode(salt),
      nonce: b64encode(nonce),
      box: b64encode(sodium.crypto_secretbox_easy(privateKey, nonce, boxKey)),
      public_key: b64encode(publicKey),
      kid: kidOfBytes(sodium, publicKey),
    };
    const text = `${JSON.stringify(keyFile)}\n`;
    return { text, kid: keyFile.kid, publicKey: keyFile.public_key };
  } finally {
    sodium.memzero(boxKey);
    sodium.memzero(privateKey);
  }
}

/**
 * Every check of crypto/keys.py `_load_key_document`.
 * @param {any} sodium
 * @param {unknown} text
 * @returns {KeyFields}
 */
function parseKeyFile(sodium, text) {
  if (typeof text !== "string") {
    throw new KeyFileError(MALFORMED);
  }
  if (text.length > MAX_FILE_CHARS) {
    throw new KeyFileError("key file is too large");
  }
  let file = null;
  try {
    file = JSON.parse(text);
  } catch {
    file = null;
  }
  const isObject = typeof file === "object" && file !== null && !Array.isArray(file);
  if (!isObject || file.v !== KEYFILE_VERSION || file.kdf !== "argon2id") {
    throw new KeyFileError(MALFORMED);
  }
  let fields;
  try {
    fields = {
      cost: checkCost(file, KeyFileError, MALFORMED),
      salt: b64decode(file.salt, SALT_BYTES),
      nonce: b64decode(file.nonce, BOX_NONCE_BYTES),
      box: b64decode(file.box, BOX_BYTES),
      publicKey: b64decode(file.public_key, KEY_BYTES),
    };
  } catch {
    throw new KeyFileError(MALFORMED);
  }
  const kid = kidOfBytes(sodium, fields.publicKey);
  if (file.kid !== kid) {
    throw new KeyFileError(MALFORMED);
  }
  return { ...fields, kid };
}

/**
 * Argon2id of the passphrase into the 32-byte secretbox key.
 * @param {any} sodium
 * @param {unknown} passphrase
 * @param {Uint8Array} salt
 * @param {KdfCost} cost
 * @returns {Uint8Array} the caller wipes it
 */
function derive(sodium, passphrase, salt, cost) {
  if (typeof passphrase !== "string" || passphrase === "") {
    throw new KeyFileError("passphrase must be a non-empty string");
  }
  const secret = utf8Encode(passphrase);
  if (secret === null) {
    throw new KeyFileError("passphrase is not valid Unicode");
  }
  try {
    if (cost.opslimit > WRAPPER_MAX || cost.memlimit > WRAPPER_MAX) {
      throw new KeyFileError("too costly for libsodium.js");
    }
    return sodium.crypto_pwhash(
      KEY_BYTES, secret, salt, cost.opslimit, cost.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
  } catch {
    throw new KeyFileError("cannot derive the key of this key file"); // e.g. out of memory
  } finally {
    sodium.memzero(secret);
  }
}

/**
 * @param {any} cost an object with opslimit and memlimit
 * @param {typeof CryptoError} ErrorType
 * @param {string} message
 * @returns {KdfCost}
 */
function checkCost(cost, ErrorType, message) {
  const { opslimit, memlimit } = cost ?? {};
  const within = (/** @type {unknown} */ value, /** @type {{min: number, max: number}} */ range) =>
    Number.isSafeInteger(value) && range.min <= Number(value) && Number(value) <= range.max;
  if (!within(opslimit, OPSLIMIT) || !within(memlimit, MEMLIMIT)) {
    throw new ErrorType(message);
  }
  return { opslimit, memlimit };
}
