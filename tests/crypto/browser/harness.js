// Test harness (tests only, never shipped): exposes the shipped modules to
// page.evaluate and records every CSP violation from the first moment.
import * as bytes from "/static/js/bytes.js";
import * as envelope from "/static/js/envelope.js";
import * as keyfile from "/static/js/keyfile.js";
import * as keys from "/static/js/keys.js";
import * as receipt from "/static/js/receipt.js";
import { ready } from "/static/js/sodium.js";

const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});

const hex = (data) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));

globalThis.harness = { bytes, envelope, keyfile, keys, receipt, ready, violations, hex, fromHex };

ready().then(
  () => { document.body.dataset.ready = "yes"; },
  () => { document.body.dataset.ready = "failed"; },
);
