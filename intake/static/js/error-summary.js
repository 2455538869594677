// The error summary (SPEC 14) takes the focus (autofocus does without scripts);
// a link focuses its field, or its group's first control.
const summary = document.querySelector(".problems");
const CONTROLS = "input:not([type=hidden]),select,textarea";

function onClick(event) {
  const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
  const target = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
  const control = target && (target.matches(CONTROLS) ? target : target.querySelector(CONTROLS));
  if (!control) {
    return;
  }
  event.preventDefault();
  (control.labels?.[0] ?? control.closest("fieldset") ?? control).scrollIntoView();
  control.focus({ preventScroll: true });
}

// A POST's answer: its history entry becomes a GET of the empty form, so
// Back or a reload never shows or sends the typed account again.
history.replaceState(null, "", location.href);

/** Its links move the focus to their fields; the page's sealing summary uses it too. */
export function followLinks(element) {
  element.addEventListener("click", onClick);
}

if (summary instanceof HTMLElement) {
  if (!summary.contains(document.activeElement)) {
    summary.focus();
  }
  followLinks(summary);
}
