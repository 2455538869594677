/**
 * Strict base64 and UTF-8, as crypto/envelope.py does them: standard base64
 * with padding, one string per value; text with a lone surrogate is refused
 * rather than silently changed.
 */

import { CryptoError } from "./errors.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LONE_SURROGATE = /\p{Cs}/u;
const CHUNK = 0x8000; // bytes per String.fromCharCode call

/**
 * Standard base64 with padding.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64encode(bytes) {
  let binary = "";
  for (let start = 0; start < bytes.length; start += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(start, start + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decode canonical standard padded base64; CryptoError otherwise.
 * @param {unknown} text
 * @param {number} [length] the exact number of bytes expected
 * @returns {Uint8Array}
 */
export function b64decode(text, length) {
  if (typeof text !== "string" || !BASE64.test(text)) {
    throw new CryptoError("malformed base64");
  }
  const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  // Stray low bits before the padding would let one value travel as several strings.
  if (b64encode(bytes) !== text) {
    throw new CryptoError("malformed base64");
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError(`expected ${length} bytes`);
  }
  return bytes;
}

/**
 * True when `text` is a string without lone surrogates (encodable as UTF-8).
 * @param {unknown} text
 * @returns {text is string}
 */
export function isWellFormed(text) {
  return typeof text === "string" && !LONE_SURROGATE.test(text);
}

/**
 * UTF-8 of well-formed text, or null (TextEncoder would replace a lone surrogate).
 * @param {string} text
 * @returns {Uint8Array | null}
 */
export function utf8Encode(text) {
  return isWellFormed(text) ? new TextEncoder().encode(text) : null;
}

/**
 * Text of valid UTF-8 (a leading BOM kept, as Python's "utf-8" codec), or null.
 * @param {Uint8Array} bytes
 * @returns {string | null}
 */
export function utf8Decode(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
