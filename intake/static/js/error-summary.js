// The error summary (SPEC 14) takes the focus (autofocus does it without
// scripts); each link focuses its field, or the first control of its group.
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
  // Its label or legend in view too, not only the bare control.
  (control.labels?.[0] ?? control.closest("fieldset") ?? control).scrollIntoView();
  control.focus({ preventScroll: true });
}

if (summary instanceof HTMLElement) {
  if (!summary.contains(document.activeElement)) {
    summary.focus();
  }
  summary.addEventListener("click", onClick);
}
