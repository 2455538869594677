// The report form seals in the page when it can (SPEC 11): report-seal.js and
// libsodium load only now, once JavaScript runs. Any failure posts the form as
// version 1 instead, so a report is never lost to the script.
const form = document.getElementById("report");
form?.addEventListener("submit", (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  import("./report-seal.js")
    .then((module) => module.sealAndSend(form))
    .then((outcome) => {
      if (outcome === "fallback") form.submit();
      if (button) button.disabled = false;
    })
    .catch(() => form.submit());
});
