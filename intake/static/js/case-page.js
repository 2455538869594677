// The focal point's case page: opens the envelope on this device, answers the reporter
// sealed, records steps, and re-seals the data key for another focal point.
// The key pair and the plaintext live only in this module's variables: never sent,
// never stored (no localStorage, sessionStorage, IndexedDB, cookie or URL), and
// dropped on sign-out, idle timeout and pagehide. A voice case's recording is decrypted
// here too and played from a blob: URL that is revoked when the report is dropped.
import { b64decode } from "/static/js/bytes.js";
import { openKeyFile } from "/static/js/keyfile.js";
import { addRecipient, openEnvelope, sealEnvelope } from "/static/js/envelope.js";
import { forgetKeyPair } from "/static/js/keys.js";
import { sealToPublicKey } from "/static/js/receipt.js";

const root = document.getElementById("case");
const caseRef = root.dataset.caseRef;
const idleMs = Number(root.dataset.idleMinutes) * 60 * 1000;
const words = document.getElementById("words").dataset;
const csrf = document.querySelector("input[name=csrf_token]").value;
const $ = (id) => document.getElementById(id);

let keyPair = null;
let detail = null;
let idleTimer = null;
let audioUrls = [];

function restartIdle() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    forget();
    window.location.assign(`/staff/login?lang=${root.dataset.lang}`);
  }, idleMs);
}

async function api(path, body) {
  const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRF-Token"] = csrf;
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  restartIdle();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function say(id, text) {
  $(id).textContent = text;
}

function dropRecordings() {
  for (const url of audioUrls) URL.revokeObjectURL(url);
  audioUrls = [];
  for (const audio of $("recording").querySelectorAll("audio")) {
    audio.pause();
    audio.removeAttribute("src");
    audio.load(); // lets the media element let go of the decoded audio
    audio.remove();
  }
  say("recording-status", "");
  $("recording").hidden = true;
}

function forget() {
  if (keyPair) forgetKeyPair(keyPair);
  keyPair = null;
  detail = null;
  dropRecordings();
  for (const node of document.querySelectorAll("[data-field], [data-message-text]")) {
    node.textContent = "";
  }
  $("content").hidden = true;
  $("reply-form").hidden = true;
  $("grant-form").hidden = true;
  $("grant-needs-key").hidden = false;
  $("open-form").hidden = false;
  $("f-reply").value = "";
}

function fieldValue(content, path) {
  let value = content;
  for (const part of path.split(".")) value = value == null ? undefined : value[part];
  if (value === undefined || value === null || value === "") return null;
  if (path === "victim.sex") {
    return { female: words.female, male: words.male, other: words.other }[value] || String(value);
  }
  return String(value);
}

function showContent(content) {
  for (const node of document.querySelectorAll("[data-field]")) {
    const value = fieldValue(content, node.dataset.field);
    node.textContent = value === null ? words.notGiven : value;
  }
  $("content").hidden = false;
}

async function showMessages() {
  const list = $("messages");
  for (const message of detail.messages) {
    let item = list.querySelector(`[data-message-id="${message.id}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.messageId = String(message.id);
      const time = document.createElement("time");
      time.dateTime = message.at;
      time.textContent = `${message.at.slice(0, 10)} ${message.at.slice(11, 16)} UTC`;
      item.dataset.from = message.from;
      const from = document.createElement("p");
      from.className = "st-from";
      from.textContent = message.from === "reporter" ? words.fromReporter : words.toReporter;
      const text = document.createElement("p");
      text.className = "text";
      text.dataset.messageText = "";
      item.append(time, from, text);
      list.append(item);
      if ($("no-messages")) $("no-messages").hidden = true;
    }
    try {
      const opened = await openEnvelope(message.envelope, { keyPair, caseRef });
      item.querySelector("[data-message-text]").textContent = String(opened.text);
    } catch {
      item.querySelector("[data-message-text]").textContent = words.failed;
    }
  }
}

// The worker seals the recording as {"mime", "data"} (SPEC 17): open it here, never upload it.
async function showRecordings() {
  const recordings = detail.attachments.filter((item) => item.kind === "audio");
  if (recordings.length === 0) return;
  $("recording").hidden = false;
  for (const item of recordings) {
    if (item.status !== "attached") {
      say("recording-status", item.status === "lost" ? words.audioLost : words.audioPending);
      continue;
    }
    try {
      const sealed = await api(
        `/api/v1/cases/${encodeURIComponent(caseRef)}/attachments/${item.id}`,
      );
      const opened = await openEnvelope(sealed.envelope, { keyPair, caseRef });
      if (keyPair === null) return; // dropped while it was opening
      const blob = new Blob([b64decode(opened.data)], { type: String(opened.mime) });
      const url = URL.createObjectURL(blob);
      audioUrls.push(url);
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "metadata";
      audio.setAttribute("aria-labelledby", "h-recording");
      audio.dataset.attachmentId = String(item.id);
      audio.src = url;
      $("recording").append(audio);
    } catch {
      say("recording-status", words.failed);
    }
  }
}

async function fillFocalPoints() {
  const select = $("f-focal-point");
  select.replaceChildren();
  const directory = await api("/api/v1/focal-points");
  for (const fp of directory.focal_points) {
    if (detail.recipients.includes(fp.id)) continue;
    const option = document.createElement("option");
    option.value = fp.id;
    option.textContent = `${fp.name} (${fp.id})`;
    // Every current key: during a rotation the table lists the old and the new one.
    option.dataset.publicKeys = JSON.stringify(fp.public_keys);
    select.append(option);
  }
}

async function onOpen(event) {
  event.preventDefault();
  const file = $("f-keyfile").files[0];
  const passphrase = $("f-passphrase").value;
  $("f-passphrase").value = "";
  say("open-status", words.opening);
  try {
    const text = await file.text();
    detail = await api(`/api/v1/cases/${encodeURIComponent(caseRef)}`);
    keyPair = await openKeyFile(text, passphrase);
    showContent(await openEnvelope(detail.envelope, { keyPair, caseRef }));
  } catch {
    forget();
    $("f-keyfile").value = "";
    say("open-status", words.wrongKey);
    return;
  }
  $("f-keyfile").value = "";
  say("open-status", "");
  $("open-form").hidden = true;
  $("reply-form").hidden = false;
  $("sms-note").hidden = !(detail.channel === "sms" && detail.consent.contact_me);
  $("grant-needs-key").hidden = true;
  $("grant-form").hidden = false;
  await showMessages();
  await showRecordings();
  await fillFocalPoints();
}

async function onReply(event) {
  event.preventDefault();
  const text = $("f-reply").value;
  try {
    const publicKeys = detail.recipient_keys.map((key) => key.public_key);
    const body = {
      sealed: {
        to_reporter: await sealToPublicKey(text, detail.receipt_public_key),
        envelope: await sealEnvelope({ text }, { publicKeys, caseRef }),
      },
    };
    // Only an SMS case whose reporter agreed to contact needs the text readable.
    if (detail.channel === "sms" && detail.consent.contact_me) body.text = text;
    await api(`/api/v1/cases/${encodeURIComponent(caseRef)}/messages`, body);
    $("f-reply").value = "";
    detail = await api(`/api/v1/cases/${encodeURIComponent(caseRef)}`);
    await showMessages();
    say("reply-status", words.sent);
  } catch {
    say("reply-status", words.failed);
  }
}

async function onGrant(event) {
  event.preventDefault();
  const option = $("f-focal-point").selectedOptions[0];
  if (!option) return;
  const handover = $("f-handover").checked;
  try {
    const sealedKeys = [];
    for (const publicKey of JSON.parse(option.dataset.publicKeys)) {
      const entry = await addRecipient(detail.envelope, { keyPair, publicKey, caseRef });
      if (entry !== null) sealedKeys.push({ kid: entry.kid, sealed_key: entry.sealed_key });
    }
    if (sealedKeys.length === 0) throw new Error("already a recipient");
    await api(`/api/v1/cases/${encodeURIComponent(caseRef)}/recipients`, {
      focal_point: option.value,
      sealed_keys: sealedKeys,
      handover,
    });
  } catch {
    say("grant-status", words.failed);
    return;
  }
  if (handover) {
    forget();
    window.location.assign(`/inbox?lang=${root.dataset.lang}`);
    return;
  }
  detail = await api(`/api/v1/cases/${encodeURIComponent(caseRef)}`);
  await fillFocalPoints();
  say("grant-status", words.granted);
}

$("js-needed").hidden = true;
$("open-form").hidden = false;
$("open-form").addEventListener("submit", onOpen);
$("reply-form").addEventListener("submit", onReply);
$("grant-form").addEventListener("submit", onGrant);
$("forget").addEventListener("click", () => {
  forget();
  say("open-status", words.forgotten);
});
for (const form of document.querySelectorAll("form[action^='/staff/logout']")) {
  form.addEventListener("submit", forget);
}
// The event form posts and reloads the page; the key goes with the page (pagehide).
window.addEventListener("pagehide", forget);
restartIdle();
