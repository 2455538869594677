// Quick exit (SPEC 14): without scripts a plain link. With them, a click or
// Escape pressed twice hides the page and *replaces* it in the history, so
// that Back does not return to it.
const link = document.querySelector("a.exit");
const TWICE_MS = 1500; // a lone Escape (closing a list) must not leave
let lastEscape = Number.NEGATIVE_INFINITY;

function leave(event) {
  event.preventDefault();
  document.documentElement.hidden = true;
  window.location.replace(link.href);
}

function onKey(event) {
  if (event.key !== "Escape") {
    lastEscape = Number.NEGATIVE_INFINITY;
  } else if (event.timeStamp - lastEscape <= TWICE_MS) {
    leave(event);
  } else {
    lastEscape = event.timeStamp;
  }
}

if (link instanceof HTMLAnchorElement) {
  link.addEventListener("click", leave);
  document.addEventListener("keydown", onKey);
}
