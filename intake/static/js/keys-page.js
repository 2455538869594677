// /staff/keys: make a focal point key pair in the page; nothing is sent anywhere.
import { createKeyFile } from "/static/js/keyfile.js";

const $ = (id) => document.getElementById(id);
const words = $("keys-words").dataset;
let downloadUrl = null;

async function onSubmit(event) {
  event.preventDefault();
  const first = $("f-pass1").value;
  const second = $("f-pass2").value;
  if ([...first].length < 8) {
    $("keys-status").textContent = words.short;
    return;
  }
  if (first !== second) {
    $("keys-status").textContent = words.differ;
    return;
  }
  $("keys-status").textContent = words.making;
  try {
    const made = await createKeyFile(first);
    $("f-pass1").value = "";
    $("f-pass2").value = "";
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([made.text], { type: "application/json" }));
    $("keys-download").href = downloadUrl;
    $("keys-public").textContent = made.publicKey;
    $("keys-kid").textContent = made.kid;
    $("keys-result").hidden = false;
    $("keys-status").textContent = words.done;
  } catch {
    $("keys-status").textContent = words.failed;
  }
}

$("js-needed").hidden = true;
$("keys-form").hidden = false;
$("keys-form").addEventListener("submit", onSubmit);
window.addEventListener("pagehide", () => {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
});
