/**
 * Envelope version 1 (SPEC section 5) in the browser, as crypto/envelope.py.
 *
 * A fresh 32-byte data key encrypts the UTF-8 JSON content with
 * XChaCha20-Poly1305 (IETF) under the associated data `intake:v1:` + case_ref;
 * the data key is sealed (crypto_box_seal) to every recipient. Opening checks
 * the structure first, then authenticates everything it uses, so tampering
 * surfaces as one EnvelopeError and never as garbage content.
 */

import { b64decode, b64encode, isWellFormed, utf8Decode, utf8Encode } from "./bytes.js";
import { CryptoError, EnvelopeError } from "./errors.js";
import { KEY_BYTES, checkKey, kidOfBytes, publicKeyBytes } from "./keys.js";
import { ready } from "./sodium.js";

export const ENVELOPE_VERSION = 1;
export const AEAD_NAME = "xchacha20poly1305-ietf";
export const AAD_PREFIX = "intake:v1:";
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const SEALED_KEY_BYTES = KEY_BYTES + 48; // crypto_box_SEALBYTES
const FIELDS = "aead,ct,nonce,recipients,v";
const ENTRY_FIELDS = "kid,sealed_key";
const KID = /^[0-9a-f]{32}$/;
// The one message for every authentication failure.
const NOT_OPENED = "envelope does not open with this key and case reference";

/**
 * @typedef {import("./keys.js").KeyPair} KeyPair
 * @typedef {{kid: string, sealed_key: string}} RecipientEntry
 * @typedef {{v: number, aead: string, nonce: string, ct: string,
 *            recipients: RecipientEntry[]}} Envelope
 * @typedef {{nonce: Uint8Array, ct: Uint8Array, sealedKeys: Map<string, Uint8Array>}} Parsed
 */

/**
 * The associated data of a case: UTF-8 of "intake:v1:" + case_ref.
 * @param {string} caseRef
 * @returns {Uint8Array}
 */
export function caseAad(caseRef) {
  if (typeof caseRef !== "string" || caseRef === "") {
    throw new CryptoError("case_ref must be a non-empty string");
  }
  const encoded = utf8Encode(AAD_PREFIX + caseRef);
  if (encoded === null) {
    throw new CryptoError("case_ref is not valid Unicode");
  }
  return encoded;
}

/**
 * The exact plaintext `sealEnvelope` encrypts: compact UTF-8 JSON, keys in given order.
 * Refuses what Python's encoder refuses (NaN, Infinity, lone surrogates) and
 * what JSON.stringify would silently drop (undefined, functions, symbols).
 * @param {Record<string, unknown>} content
 * @returns {Uint8Array}
 */
export function encodeContent(content) {
  if (!isPlainObject(content)) {
    throw new CryptoError("content must be a mapping with string keys");
  }
  let text = null;
  try {
    text = JSON.stringify(content, strictValue);
  } catch {
    text = null; // the thrown error may quote the content: dropped
  }
  const encoded = text === null ? null : utf8Encode(text);
  if (encoded === null) {
    throw new CryptoError("content is not serialisable as UTF-8 JSON");
  }
  return encoded;
}

/**
 * Seal `content` to every key (duplicates dropped, order kept): the
 * recipients' and the escrow keys alike.
 * @param {Record<string, unknown>} content the sealed fields
 * @param {{publicKeys: string[], caseRef: string}} options base64 public keys
 * @returns {Promise<Envelope>}
 */
export async function sealEnvelope(content, { publicKeys, caseRef }) {
  const sodium = await ready();
  const plaintext = encodeContent(content);
  const keys = uniqueKeys(publicKeys);
  const aad = caseAad(caseRef);
  const dataKey = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const nonce = sodium.randombytes_buf(NONCE_BYTES);
  try {
    const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext, aad, null, nonce, dataKey,
    );
    return {
      v: ENVELOPE_VERSION,
      aead: AEAD_NAME,
      nonce: b64encode(nonce),
      ct: b64encode(ct),
      recipients: keys.map((key) => sealedKeyEntry(sodium, dataKey, key)),
    };
  } finally {
    sodium.memzero(dataKey);
    sodium.memzero(plaintext);
  }
}

/**
 * Open an envelope with a recipient's key pair; EnvelopeError on any problem.
 * @param {unknown} envelope as parsed from JSON
 * @param {{keyPair: KeyPair, caseRef: string}} options
 * @returns {Promise<Record<string, unknown>>} the sealed fields
 */
export async function openEnvelope(envelope, { keyPair, caseRef }) {
  const sodium = await ready();
  const aad = caseAad(caseRef);
  const parsed = parse(envelope);
  const dataKey = openDataKey(sodium, parsed, keyPair);
  try {
    return decryptContent(sodium, parsed, dataKey, aad);
  } finally {
    sodium.memzero(dataKey);
  }
}

/**
 * The entry that lets `publicKey` open this envelope too (to grant access or
 * hand a case over): the data key is opened with `keyPair` and proven to open
 * this case's content first, so a doctored entry is never forwarded.
 * @param {unknown} envelope as parsed from JSON
 * @param {{keyPair: KeyPair, publicKey: string, caseRef: string}} options
 * @returns {Promise<RecipientEntry | null>} null when the key is already a recipient
 */
export async function addRecipient(envelope, { keyPair, publicKey, caseRef }) {
  const sodium = await ready();
  const newKey = publicKeyBytes(publicKey);
  const aad = caseAad(caseRef);
  const parsed = parse(envelope);
  const dataKey = openDataKey(sodium, parsed, keyPair);
  try {
    decryptContent(sodium, parsed, dataKey, aad);
    if (parsed.sealedKeys.has(kidOfBytes(sodium, newKey))) {
      return null;
    }
    return sealedKeyEntry(sodium, dataKey, newKey);
  } finally {
    sodium.memzero(dataKey);
  }
}

/**
 * @param {any} sodium
 * @param {Uint8Array} dataKey
 * @param {Uint8Array} publicKey
 * @returns {RecipientEntry}
 */
function sealedKeyEntry(sodium, dataKey, publicKey) {
  const kid = kidOfBytes(sodium, publicKey);
  let sealed;
  try {
    sealed = sodium.crypto_box_seal(dataKey, publicKey);
  } catch {
    throw new CryptoError("public key is not a usable X25519 key"); // low-order point
  }
  return { kid, sealed_key: b64encode(sealed) };
}

/**
 * Every structural check of crypto/envelope.py `_parse`, base64 decoded once.
 * @param {unknown} envelope
 * @returns {Parsed}
 */
function parse(envelope) {
  if (!isPlainObject(envelope) || !hasExactly(envelope, FIELDS)) {
    throw new EnvelopeError("envelope must have exactly the fields v, aead, nonce, ct, recipients");
  }
  if (envelope.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError("unsupported envelope version");
  }
  if (envelope.aead !== AEAD_NAME) {
    throw new EnvelopeError("unsupported envelope aead");
  }
  const nonce = fieldBytes(envelope.nonce, "nonce", NONCE_BYTES);
  const ct = fieldBytes(envelope.ct, "ct");
  if (ct.length < TAG_BYTES) {
    throw new EnvelopeError("envelope ct is too short");
  }
  const recipients = envelope.recipients;
  if (!Array.isArray(recipients) || recipients.length === 0) {
    throw new EnvelopeError("envelope recipients must be a non-empty list");
  }
  /** @type {Map<string, Uint8Array>} */
  const sealedKeys = new Map();
  for (const entry of recipients) {
    if (!isPlainObject(entry) || !hasExactly(entry, ENTRY_FIELDS)) {
      throw new EnvelopeError("each recipient must have exactly the fields kid, sealed_key");
    }
    if (typeof entry.kid !== "string" || !KID.test(entry.kid)) {
      throw new EnvelopeError("recipient kid must be 32 lower-case hex digits");
    }
    if (sealedKeys.has(entry.kid)) {
      throw new EnvelopeError("recipient kids must be unique");
    }
    sealedKeys.set(entry.kid, fieldBytes(entry.sealed_key, "sealed_key", SEALED_KEY_BYTES));
  }
  return { nonce, ct, sealedKeys };
}

/**
 * @param {any} sodium
 * @param {Parsed} parsed
 * @param {KeyPair} keyPair only its private key is used
 * @returns {Uint8Array} the data key; the caller wipes it
 */
function openDataKey(sodium, parsed, keyPair) {
  const privateKey = checkKey(keyPair?.privateKey, "private key");
  const publicKey = sodium.crypto_scalarmult_base(privateKey);
  const sealed = parsed.sealedKeys.get(kidOfBytes(sodium, publicKey));
  if (sealed === undefined) {
    throw new EnvelopeError("envelope has no entry for this key");
  }
  let dataKey;
  try {
    dataKey = sodium.crypto_box_seal_open(sealed, publicKey, privateKey);
  } catch {
    throw new EnvelopeError(NOT_OPENED);
  }
  if (dataKey.length !== KEY_BYTES) {
    throw new EnvelopeError(NOT_OPENED);
  }
  return dataKey;
}

/**
 * @param {any} sodium
 * @param {Parsed} parsed
 * @param {Uint8Array} dataKey
 * @param {Uint8Array} aad
 * @returns {Record<string, unknown>}
 */
function decryptContent(sodium, parsed, dataKey, aad) {
  let plaintext;
  try {
    plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, parsed.ct, aad, parsed.nonce, dataKey,
    );
  } catch {
    throw new EnvelopeError(NOT_OPENED);
  }
  const text = utf8Decode(plaintext);
  sodium.memzero(plaintext);
  let content = null;
  try {
    content = text === null ? null : JSON.parse(text);
  } catch {
    content = null; // a parse error may quote the plaintext: dropped
  }
  if (!isPlainObject(content)) {
    throw new EnvelopeError("envelope content is not a UTF-8 JSON object");
  }
  return content;
}

/**
 * @param {unknown} value
 * @param {string} name
 * @param {number} [length]
 * @returns {Uint8Array}
 */
function fieldBytes(value, name, length) {
  if (typeof value !== "string") {
    throw new EnvelopeError(`envelope ${name} must be a base64 string`);
  }
  try {
    return b64decode(value, length);
  } catch {
    throw new EnvelopeError(`envelope ${name} is malformed`);
  }
}

/**
 * @param {unknown} publicKeys
 * @returns {Uint8Array[]}
 */
function uniqueKeys(publicKeys) {
  if (!Array.isArray(publicKeys)) {
    throw new CryptoError("publicKeys must be a list of base64 public keys");
  }
  // Strict base64 gives one string per key, so equal keys are equal strings.
  const unique = [...new Set(publicKeys)].map(publicKeyBytes);
  if (unique.length === 0) {
    throw new CryptoError("at least one public key is required");
  }
  return unique;
}

/**
 * JSON.stringify replacer: throw on what Python's json.dumps would refuse or
 * what JSON.stringify would silently change.
 * @param {string} key
 * @param {unknown} value
 * @returns {unknown}
 */
function strictValue(key, value) {
  const kind = typeof value;
  if (!isWellFormed(key) || (kind === "string" && !isWellFormed(value))) {
    throw new CryptoError("lone surrogate");
  }
  if ((kind === "number" && !Number.isFinite(value)) || value === undefined) {
    throw new CryptoError("not JSON");
  }
  if (kind === "function" || kind === "symbol" || kind === "bigint") {
    throw new CryptoError("not JSON");
  }
  return value;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isPlainObject(value) {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * @param {Record<string, unknown>} object
 * @param {string} sortedNames comma-separated
 * @returns {boolean}
 */
function hasExactly(object, sortedNames) {
  return Object.keys(object).sort().join(",") === sortedNames;
}
