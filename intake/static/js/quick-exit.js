/**
 * Quick exit (SPEC 14). Without JavaScript the control is a plain link to a
 * neutral site. With it, a click (or Escape pressed twice) hides the page at
 * once and *replaces* it in the history, so Back does not return to it.
 */

const link = document.querySelector("a.exit");
// The second Escape must follow the first within this time (a lone Escape
// closing a list or a dialog must not leave the page).
const TWICE_MS = 1500;
let lastEscape = Number.NEGATIVE_INFINITY;

/** Leave: nothing stays on screen while the neutral site loads. */
function leave(event) {
  event.preventDefault();
  document.documentElement.hidden = true;
  window.location.replace(link.href);
}

function onKey(event) {
  if (event.key !== "Escape") {
    lastEscape = Number.NEGATIVE_INFINITY;
    return;
  }
  if (event.timeStamp - lastEscape <= TWICE_MS) {
    leave(event);
  } else {
    lastEscape = event.timeStamp;
  }
}

if (link instanceof HTMLAnchorElement) {
  link.addEventListener("click", leave);
  document.addEventListener("keydown", onKey);
}
