// While a live session runs, it follows the form: a change to what to dream or how (model,
// layer, channels, classes, preset, sliders, seed, blend...) is sent as its new settings, a
// moment after the last change, and the next frame is dreamed with them.

import { toJson } from "./api.js";
import { byId } from "./dom.js";
import { buildParams } from "./form.js";
import { onLayerChange } from "./layers.js";

const controls = byId("studio").querySelector(".col-controls");
/** Chips added by the page itself (a class picked with Enter) fire no event: they are watched. */
const chipLists = [byId("classes"), byId("extra-layers"), byId("extra-params")];

const DEBOUNCE_MS = 300;

let following = null; // {send, onProblem} while a session runs
let lastSent = ""; // the params last sent, as JSON
let timer = null;

/**
 * Send the form's settings now with `send(params)`, then again after each change, until
 * stopFollowing(); `onProblem({error, field})` when the form cannot be read.
 */
export function followSettings(send, onProblem) {
  following = { send, onProblem };
  lastSent = "";
  sendSettings();
}

export function stopFollowing() {
  following = null;
  clearTimeout(timer);
}

/** The form changed: send its settings once it has not changed for a moment. */
function settingsChanged() {
  if (!following) return;
  clearTimeout(timer);
  timer = setTimeout(sendSettings, DEBOUNCE_MS);
}

/** Send the form's params if they differ from the last sent (a click that changed nothing sends nothing). */
function sendSettings() {
  if (!following) return;
  const built = buildParams();
  if (built.error) {
    following.onProblem(built);
    return;
  }
  const text = toJson(built.params);
  if (text === lastSent) return;
  lastSent = text;
  following.send(built.params);
}

export function wireLiveSettings() {
  for (const type of ["input", "change", "click"]) controls.addEventListener(type, settingsChanged);
  const observer = new MutationObserver(settingsChanged);
  for (const list of chipLists) observer.observe(list, { childList: true });
  onLayerChange(settingsChanged);
}
