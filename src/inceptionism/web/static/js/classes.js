// ImageNet classes to dream: a search box (GET /api/classes?q=) offering labels, and the
// chosen ones as chips.

import { api, errorText } from "./api.js";
import { byId, chip } from "./dom.js";
import { setStatus } from "./status.js";

const search = byId("class-search");
const suggestions = byId("class-list");
const help = byId("class-help");
const chosenList = byId("classes");
const addButton = byId("class-add");

const DEBOUNCE_MS = 180;
let chosen = []; // class names, as params.classes sends them
let results = []; // the last answer of /api/classes
let timer = null;
let ticket = 0; // each search's number: an older answer arriving late is dropped

/** The chosen class names. */
export function chosenClasses() {
  return [...chosen];
}

/** Make `names` the chosen classes. */
export function setClasses(names) {
  chosen = names.map(String);
  renderChosen();
}

async function ask(text) {
  return api(`/api/classes?q=${encodeURIComponent(text)}&limit=20`);
}

/** Offer the labels matching the search box (debounced) in its list. */
function searchSoon() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    const text = search.value.trim();
    const mine = ++ticket;
    try {
      const answer = await ask(text);
      if (mine !== ticket) return;
      results = answer;
      suggestions.replaceChildren(...answer.map((item) => new Option(`#${item.index}`, item.label)));
      help.textContent = answer.length
        ? `${answer.length} match${answer.length === 1 ? "" : "es"}: pick one, or press Enter.`
        : `No class matches "${text}".`;
    } catch (error) {
      setStatus(`Class search failed: ${errorText(error)}`, "error");
    }
  }, DEBOUNCE_MS);
}

/** The label the search box names exactly (case aside), if any. */
function exactMatch(list, text) {
  const wanted = text.trim().toLowerCase();
  const hit = wanted && list.find((item) => item.label.toLowerCase() === wanted);
  return hit ? hit.label : null;
}

function addClass(label) {
  if (!chosen.includes(label)) chosen.push(label);
  search.value = "";
  renderChosen();
  setStatus(`Class added: ${label}.`);
}

/** Add the class the search box names; without an exact match, the only search result. */
async function addTyped() {
  const text = search.value.trim();
  if (!text) return;
  let label = exactMatch(results, text);
  try {
    if (!label) {
      results = await ask(text);
      label = exactMatch(results, text) || (results.length === 1 ? results[0].label : null);
    }
  } catch (error) {
    setStatus(`Class search failed: ${errorText(error)}`, "error");
    return;
  }
  if (label) addClass(label);
  else setStatus(results.length ? `Several classes match "${text}": pick one from the list.`
    : `No ImageNet class matches "${text}".`, "error");
}

function renderChosen() {
  chosenList.replaceChildren(...chosen.map((label) => chip(label, `Remove class ${label}`, () => {
    chosen = chosen.filter((item) => item !== label);
    renderChosen();
  }, "li")));
}

export function wireClasses() {
  search.addEventListener("input", (event) => {
    // Picking from the list replaces the text at once: take that pick.
    const picked = !(event instanceof InputEvent) || event.inputType === "insertReplacementText";
    const label = picked && exactMatch(results, search.value);
    if (label) addClass(label);
    else searchSoon();
  });
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter adds a class here; it does not start a dream
    addTyped();
  });
  addButton.addEventListener("click", addTyped);
}
