/**
 * Seal the report in the page (SPEC 11): the server never sees the account.
 *
 * 1. read the form as the server reads it (intake/http/forms.py report_fields);
 * 2. check every sealed-field rule of SPEC 4 and 9 here, with the server's own
 *    messages in the page's language (GET /report/sealing): the server cannot
 *    check what it cannot read;
 * 3. prepare (POST /api/v1/reports/prepare): case_ref, keys, signed token;
 * 4. seal the sealed fields to those keys (envelope v1, crypto module);
 * 5. post only the clear fields, the token and the envelope (POST /report/sealed);
 * 6. open the receipt page, as the version 1 post does (its one-time cookie).
 *
 * Returns "sent", "errors" (shown beside their fields) or "fallback" (the
 * caller posts the form as version 1: the server then checks and seals).
 * Nothing here logs, stores or puts into a URL any field or the receipt.
 */

import { sealEnvelope } from "./envelope.js";
import { followLinks } from "./error-summary.js";

const NARRATIVE_MAX = 20000;
const SHORT_TEXT_MAX = 500;
const LOCATION_MAX = 2000;
const LATEST_OFFSET_MS = 14 * 3600 * 1000; // reporters ahead of UTC, as the server allows
const CONSENTS = ["contact_me", "share_with_investigators", "refer_to_services"];
const CHILD = { yes: true, no: false, unknown: null };
const SEXES = ["female", "male", "other"];
// Digit blocks whose values the page knows (as Python's int() reads them); any
// other digit goes to the server, which knows them all.
const ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0x1040];
const BAD_CHARACTER = /[\u0000\p{Cs}]/u;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * @typedef {[string, string]} FieldError (form field name, code)
 * @typedef {{messages: Record<string, string>, summary: string}} Texts
 */

/**
 * @param {HTMLFormElement} form
 * @returns {Promise<"sent" | "errors" | "fallback">}
 */
export async function sealAndSend(form) {
  const fields = new FormData(form);
  const sealed = sealedFields(fields);
  if (sealed === null) {
    return "fallback";
  }
  const texts = await getJson(`/report/sealing?lang=${encodeURIComponent(pageLanguage())}`);
  if (texts === null) {
    return "fallback";
  }
  const clear = clearFields(fields);
  // Every error at once (SPEC 14): the page's own rules, and the server's rules of the
  // clear fields, which prepare answers with (the sealed ones never leave the page).
  const found = check(sealed, clear.reporter_type).map(([field, code]) => [
    field,
    texts.messages[code],
  ]);
  const prepared = await post("/api/v1/reports/prepare", clear);
  if (prepared.status === 422) {
    found.push(...clearFieldErrors(prepared.body));
  }
  if (found.length > 0) {
    showErrors(form, /** @type {[string, string][]} */ (found), texts);
    return "errors";
  }
  if (prepared.status !== 200) {
    return "fallback"; // a limit, no table, the network: the version 1 post words it
  }
  const envelope = await sealEnvelope(content(sealed), {
    publicKeys: prepared.body.keys.map((/** @type {{public_key: string}} */ key) => key.public_key),
    caseRef: prepared.body.case_ref,
  });
  const token = text(fields, "csrf_token");
  const answer = await post("/report/sealed", {
    csrf_token: token,
    report: { ...clear, prepared: prepared.body.prepared, envelope },
  });
  const next = answer.status === 201 ? answer.body?.next : null;
  if (typeof next !== "string" || !next.startsWith("/report/")) {
    return "fallback";
  }
  // The receipt went to the receipt page in its one-time cookie, never through here;
  // the typed form is emptied so that no history step can show it again.
  form.reset();
  location.assign(next);
  return "sent";
}

function pageLanguage() {
  return document.documentElement.lang || "en";
}

/**
 * The clear fields exactly as the server reads them from the form.
 * @param {FormData} fields
 */
function clearFields(fields) {
  /** @type {Record<string, unknown>} */
  const clear = {};
  for (const name of ["reporter_type", "language", "country", "category", "affiliation"]) {
    const value = text(fields, name);
    if (value !== "") {
      clear[name] = value;
    }
  }
  const child = text(fields, "victim_is_child");
  clear.victim_is_child = child in CHILD ? CHILD[/** @type {keyof CHILD} */ (child)] : child;
  clear.consent = Object.fromEntries(CONSENTS.map((name) => [name, fields.has(`consent.${name}`)]));
  return clear;
}

/**
 * The sealed fields as typed (empty is absent); null when the page cannot read one.
 * @param {FormData} fields
 */
function sealedFields(fields) {
  const age = text(fields, "victim.age");
  const number = age === "" ? null : wholeNumber(age);
  if (number === undefined) {
    return null;
  }
  return {
    narrative: text(fields, "narrative"),
    incident_date: text(fields, "incident_date"),
    location: text(fields, "location"),
    reporter: group(fields, "reporter", ["name", "contact"]),
    victim: group(fields, "victim", ["name", "age", "sex"]),
    age: number,
  };
}

/**
 * @param {FormData} fields
 * @param {string} name
 * @returns {string}
 */
function text(fields, name) {
  const value = fields.get(name);
  return typeof value === "string" ? value : "";
}

/**
 * @param {FormData} fields
 * @param {string} prefix
 * @param {string[]} names
 * @returns {Record<string, string> | null} only the filled members, null when none is
 */
function group(fields, prefix, names) {
  const filled = names
    .map((name) => [name, text(fields, `${prefix}.${name}`)])
    .filter(([, value]) => value !== "");
  return filled.length ? Object.fromEntries(filled) : null;
}

/**
 * A whole number as Python's int() reads it; NaN for other text; undefined
 * when it holds a digit this page cannot value.
 * @param {string} typed
 * @returns {number | undefined}
 */
function wholeNumber(typed) {
  const trimmed = typed.trim();
  const match = /^([+-]?)(\p{Nd}+)$/u.exec(trimmed);
  if (match === null) {
    return Number.NaN;
  }
  let value = 0;
  for (const char of match[2]) {
    const code = /** @type {number} */ (char.codePointAt(0));
    const zero = ZEROS.find((start) => code >= start && code <= start + 9);
    if (zero === undefined) {
      return undefined;
    }
    value = value * 10 + (code - zero);
  }
  return match[1] === "-" ? -value : value;
}

/**
 * Every sealed-field rule of SPEC 4 and 9, in the order the server reports them.
 * @param {ReturnType<typeof sealedFields> & {}} sealed
 * @param {unknown} reporterType
 * @returns {FieldError[]}
 */
function check(sealed, reporterType) {
  /** @type {FieldError[]} */
  const errors = [];
  const add = (/** @type {string} */ field, /** @type {string} */ code) => {
    if (!errors.some(([known]) => known === field)) {
      errors.push([field, code]);
    }
  };
  const texts = [
    ["narrative", sealed.narrative],
    ["incident_date", sealed.incident_date],
    ["location", sealed.location],
    ...Object.entries(sealed.reporter ?? {}).map(([k, v]) => [`reporter.${k}`, v]),
    ...Object.entries(sealed.victim ?? {}).map(([k, v]) => [`victim.${k}`, v]),
  ];
  if (texts.some(([, value]) => BAD_CHARACTER.test(value))) {
    return [["", "nul_character"]]; // the server refuses these before any other check
  }
  if (sealed.narrative.trim() === "") {
    add("narrative", "narrative_required");
  } else if (length(sealed.narrative) > NARRATIVE_MAX) {
    add("narrative", "narrative_too_long");
  }
  const dateProblem = checkDate(sealed.incident_date);
  if (dateProblem) {
    add("incident_date", dateProblem);
  }
  if (length(sealed.location) > LOCATION_MAX) {
    add("location", "string_too_long");
  }
  for (const name of ["reporter.name", "reporter.contact", "victim.name"]) {
    const [prefix, member] = name.split(".");
    const value = /** @type {any} */ (sealed)[prefix]?.[member] ?? "";
    if (length(value) > SHORT_TEXT_MAX) {
      add(name, "string_too_long");
    }
  }
  checkVictim(sealed, add);
  checkReporter(sealed, reporterType, add); // with the others, as the server (SPEC 14)
  return errors;
}

/**
 * @param {ReturnType<typeof sealedFields> & {}} sealed
 * @param {(field: string, code: string) => void} add
 */
function checkVictim(sealed, add) {
  if (sealed.age !== null) {
    if (Number.isNaN(sealed.age)) {
      add("victim.age", "int_type");
    } else if (sealed.age < 0) {
      add("victim.age", "greater_than_equal");
    } else if (sealed.age > 130) {
      add("victim.age", "less_than_equal");
    }
  }
  const sex = sealed.victim?.sex;
  if (sex !== undefined && !SEXES.includes(sex)) {
    add("victim.sex", "literal_error");
  }
}

/**
 * The model rules, checked (as on the server) only once every field is valid.
 * @param {ReturnType<typeof sealedFields> & {}} sealed
 * @param {unknown} reporterType
 * @param {(field: string, code: string) => void} add
 */
function checkReporter(sealed, reporterType, add) {
  const reporter = sealed.reporter;
  if (reporterType === "anonymous" && reporter !== null) {
    add("reporter.name", "reporter_not_anonymous");
  }
  const given = (reporter?.name ?? "").trim() || (reporter?.contact ?? "").trim();
  if (reporterType === "named" && !given) {
    add("reporter.name", "reporter_required");
  }
}

/**
 * @param {string} typed
 * @returns {string | null} the problem's code
 */
function checkDate(typed) {
  if (typed === "") {
    return null;
  }
  const match = DATE.exec(typed);
  if (match === null) {
    return "date_invalid";
  }
  const [year, month, day] = match.slice(1).map(Number);
  const moment = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || moment.getUTCMonth() !== month - 1 || moment.getUTCDate() !== day) {
    return "date_invalid";
  }
  const latest = new Date(Date.now() + LATEST_OFFSET_MS).toISOString().slice(0, 10);
  return typed > latest ? "date_in_future" : null;
}

/** Lengths count Unicode code points (SPEC 9). @param {string} value */
function length(value) {
  return [...value].length;
}

/**
 * What is sealed, exactly as the server seals it (ReportIn.sealed_content).
 * @param {ReturnType<typeof sealedFields> & {}} sealed
 */
function content(sealed) {
  const reporter = sealed.reporter;
  const victim = sealed.victim;
  return {
    narrative: sealed.narrative,
    incident_date: sealed.incident_date || null,
    location: sealed.location || null,
    reporter: reporter ? { name: reporter.name ?? null, contact: reporter.contact ?? null } : null,
    victim: victim
      ? { name: victim.name ?? null, age: sealed.age, sex: victim.sex ?? null }
      : null,
  };
}

/**
 * The server's 422 problem as (form field, message) pairs.
 * @param {any} problem
 * @returns {[string, string][]}
 */
function clearFieldErrors(problem) {
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  return errors
    .filter((/** @type {any} */ error) => Array.isArray(error.loc) && typeof error.msg === "string")
    .map((/** @type {any} */ error) => [error.loc.join("."), error.msg]);
}

/**
 * The field's own words, as the server's summary names it: its label or legend.
 * @param {Element | null} input
 */
function labelOf(input) {
  if (input instanceof HTMLFieldSetElement) {
    return input.querySelector("legend")?.textContent?.trim() ?? "";
  }
  const label = input && document.querySelector(`label[for="${input.id}"]`);
  return label?.textContent?.trim() ?? "";
}

/**
 * Errors as the server's page shows them: one summary in page order naming each
 * field, each a link to it, and the message beside the field.
 * @param {HTMLFormElement} form
 * @param {[string, string][]} errors (form field, message)
 * @param {Texts} texts
 */
function showErrors(form, errors, texts) {
  for (const old of document.querySelectorAll(".problems, p.error")) {
    old.remove();
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    const hint = field.id === "f-narrative" ? "h-narrative" : "";
    if (hint) field.setAttribute("aria-describedby", hint);
    else field.removeAttribute("aria-describedby");
  }
  if (errors.length === 0) {
    return;
  }
  const placed = errors.map(([field, message]) => {
    const key = field.replaceAll(".", "-");
    return { key, message, input: field ? form.querySelector(`#f-${key}`) : null };
  });
  const order = [...form.querySelectorAll("[id^='f-']")];
  const rank = (/** @type {{input: Element | null}} */ x) => (x.input ? order.indexOf(x.input) : -1);
  placed.sort((a, b) => rank(a) - rank(b)); // in page order, as the server's summary
  const summary = document.createElement("div");
  summary.className = "problems";
  summary.setAttribute("role", "alert");
  summary.tabIndex = -1;
  const heading = document.createElement("h2");
  heading.textContent = texts.summary;
  const list = document.createElement("ul");
  for (const { key, message, input } of placed) {
    const link = document.createElement("a");
    link.href = input ? `#f-${key}` : "#report";
    const name = labelOf(input);
    if (name) {
      const strong = document.createElement("strong");
      strong.textContent = name;
      link.append(strong, " ");
    }
    link.append(message);
    const item = document.createElement("li");
    item.append(link);
    list.append(item);
    if (input) {
      const note = document.createElement("p");
      note.className = "error";
      note.id = `e-${key}`;
      note.textContent = message;
      input.before(note);
      input.setAttribute("aria-invalid", "true");
      const hint = key === "narrative" ? "h-narrative " : "";
      input.setAttribute("aria-describedby", `${hint}e-${key}`);
    }
  }
  summary.append(heading, list);
  form.before(summary);
  followLinks(summary);
  summary.focus();
}

/**
 * @param {string} url
 * @returns {Promise<any>} the JSON answer, or null on any failure
 */
async function getJson(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} url
 * @param {unknown} body
 * @returns {Promise<{status: number, body: any}>} status 0: no answer
 */
async function post(url, body) {
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  } catch {
    return { status: 0, body: null };
  }
}
