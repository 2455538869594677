// This page answers a POST: its history entry becomes a GET of the empty form,
// so that Back or a reload never shows or sends what was typed again.
history.replaceState(null, "", location.href);
