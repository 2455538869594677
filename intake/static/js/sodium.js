/**
 * Loads the vendored libsodium.js (sumo build: it has Argon2id) once.
 *
 * The upstream UMD files are plain scripts, same origin: libsodium-sumo.js
 * defines `globalThis.libsodium` (WebAssembly embedded in the file) and
 * libsodium-wrappers.js wraps it as `globalThis.sodium`. Added as
 * `<script src>` elements they need `script-src 'self' 'wasm-unsafe-eval'`
 * and no inline script. See intake/static/vendor/README.md.
 */

import { CryptoError } from "./errors.js";

const VENDOR = new URL("../vendor/", import.meta.url);
const FILES = ["libsodium-sumo.js", "libsodium-wrappers.js"]; // in this order

/** @type {any} where the UMD files put `libsodium` and `sodium` */
const scope = globalThis;
/** @type {Promise<any> | null} */
let loading = null;

/**
 * The libsodium wrappers object, once it is initialised. Safe to call often:
 * the files load once; after a failure the next call tries again.
 * @returns {Promise<any>}
 */
export function ready() {
  loading ??= load().catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function load() {
  if (scope.sodium === undefined) {
    for (const name of FILES) {
      await addScript(new URL(name, VENDOR));
    }
  }
  try {
    await scope.sodium.ready;
  } catch {
    // e.g. a policy without 'wasm-unsafe-eval': the WebAssembly never compiles
    throw new CryptoError("libsodium did not start in this page");
  }
  return scope.sodium;
}

/**
 * @param {URL} url
 * @returns {Promise<void>}
 */
function addScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url.href;
    script.async = false;
    script.addEventListener("load", () => resolve());
    script.addEventListener("error", () => reject(new CryptoError("cannot load libsodium")));
    document.head.append(script);
  });
}
