/**
 * The error summary (SPEC 14): it takes the focus when the page opens (the
 * `autofocus` attribute does without JavaScript), and each of its links moves
 * the focus to its field itself: the first control of a group, so that typing
 * can start at once.
 */

const summary = document.querySelector(".problems");
const CONTROLS = "input:not([type=hidden]), select, textarea";

/** The control a summary link points at: the element itself or its first control. */
function controlFor(link) {
  const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
  if (target === null) {
    return null;
  }
  return target.matches(CONTROLS) ? target : target.querySelector(CONTROLS);
}

function onClick(event) {
  const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
  const control = link === null ? null : controlFor(link);
  if (control === null) {
    return;
  }
  event.preventDefault();
  // Its label or legend in view too, not only the bare control.
  const label = control.labels?.[0] ?? control.closest("fieldset") ?? control;
  label.scrollIntoView({ block: "start" });
  control.focus({ preventScroll: true });
}

if (summary instanceof HTMLElement) {
  if (!summary.contains(document.activeElement)) {
    summary.focus();
  }
  summary.addEventListener("click", onClick);
}
