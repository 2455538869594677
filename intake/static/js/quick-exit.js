// Quick exit (SPEC 14): a click or Escape twice hides the page and replaces
// it in the history; without scripts a plain link.
const link = document.querySelector("a.exit");
const TWICE_MS = 1500; // a lone Escape must not leave
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
