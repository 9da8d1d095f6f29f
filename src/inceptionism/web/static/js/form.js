// The dream, zoom, video and live form: the kind of job, the start (photo or noise), the number
// fields (each names its option: data-option), and the params a job (or a live session) is sent
// with. "Use these settings" fills it back from a job.

import { chosenClasses, setClasses } from "./classes.js";
import { byId, chip } from "./dom.js";
import { chooseModel, fillLayers, layerSpecs, modelName, showLayer } from "./layers.js";
import { setBrushUsable } from "./mask.js";
import { optionsOf } from "./options.js";
import { currentPhoto, hasStill, onPhotoChange, wantVideoInput } from "./photo.js";
import { fillSchedule, presetName, presetOptions, sliderNames, sliderParams } from "./schedule.js";
import { setStatus, statusInLivePanel } from "./status.js";

const kindSelect = byId("kind");
const noise = byId("noise");
const noiseSize = byId("noise-size");
const noiseField = byId("noise-field");
const photoFrame = byId("photo-frame");
const seed = byId("seed");
const keepColors = byId("keep-colors");
const sections = { zoom: byId("zoom-fields"), video: byId("video-fields"), live: byId("live-fields") };
/** What a live session does without (it dreams the frames it is sent), and its own panel. */
const notLive = [byId("dropzone"), byId("guide-field"), byId("photo-panel"), byId("run-panel")];
const livePanel = byId("live-panel");
const format = byId("format");
const zoomLabels = byId("zoom-labels");
const flow = byId("flow");
const dreamButton = byId("dream");
const extraChips = byId("extra-params");
/** The number fields of the form (not the atlas's): each names its option, "group.name". */
const numberFields = [...document.querySelectorAll("#studio input[type=number][data-option]")]
  .filter((input) => !input.dataset.option.startsWith("atlas."));

const BUTTON_TEXT = { dream: "Dream", zoom: "Dream a zoom", video: "Dream the video" };
/** Params of a zoom, a video or a live session that are not numbers: the form's switches. */
const SWITCHES = { zoom: ["format", "labels"], video: ["flow"], live: [] };
/** Dream options a live session refuses: it has no noise, and sizes its octaves itself. */
const NOT_LIVE = new Set(["noise", "octave_sizes"]);
const kindListeners = [];

let extraParams = {}; // further known params kept from "Use these settings", shown as chips
let shownKind = null; // the kind whose fields are shown

/** The kind of job chosen: "dream", "zoom", "video" or "live". */
export function jobKind() {
  return kindSelect.value;
}

/** Whether the job starts from noise (the box is ticked; a video or a live session never does). */
export function startsFromNoise() {
  return jobKind() !== "video" && jobKind() !== "live" && noise.checked;
}

/** Call `listener(kind)` whenever another kind is chosen (in the list, or by "Use these settings"). */
export function onKindChange(listener) {
  kindListeners.push(listener);
}

/** Show the fields of the kind of job chosen; a video job takes a video file, a live session neither. */
export function setKind(kind) {
  const changed = kind !== shownKind;
  shownKind = kindSelect.value = kind;
  for (const [name, section] of Object.entries(sections)) section.hidden = kind !== name;
  showLive(kind === "live");
  noiseField.hidden = kind === "video" || kind === "live";
  if (kind === "video" && noise.checked) {
    noise.checked = false;
    noiseChanged();
  }
  if (kind !== "live" && wantVideoInput(kind === "video")) {
    setStatus(kind === "video" ? "A video job needs a video: choose one." : "Choose a photo, or tick Start from noise.");
  }
  dreamButton.textContent = BUTTON_TEXT[kind] || "Dream";
  if (changed) for (const listener of kindListeners) listener(kind);
}

/** The Live panel instead of the photo, the guide and the Dream button; the status line follows. */
function showLive(live) {
  for (const element of notLive) element.hidden = live;
  livePanel.hidden = !live;
  statusInLivePanel(live);
}

function noiseChanged() {
  noiseSize.disabled = !noise.checked;
  photoFrame.classList.toggle("noise", noise.checked);
  setBrushUsable(hasStill() && !noise.checked);
}

/** A new photo: it is the start, not noise. */
function photoChanged() {
  if (currentPhoto() && noise.checked) noise.checked = false;
  noiseChanged();
}

/**
 * The job's params (the Python API's keyword names) from the form: {params} or {error, field}.
 * Only what was set is sent; the server, the preset and the defaults fill in the rest.
 */
export function buildParams() {
  const kind = jobKind();
  const start = startProblem(kind);
  if (start) return start;
  const layers = layerSpecs();
  if (layers.error) return { error: `Layer: ${layers.error}.`, field: layers.field };
  const params = { ...extraParams, model: modelName() || undefined, ...sliderParams() };
  if (layers.specs.length) params.layers = layers.specs;
  if (chosenClasses().length) params.classes = chosenClasses();
  if (presetName()) params.preset = presetName();
  const problem = readStart(params) || readNumbers(kind, params);
  if (problem) return problem;
  readSwitches(kind, params);
  dropOtherKinds(kind, params);
  if (kind === "live") keepLiveOnly(params);
  for (const name of Object.keys(params)) if (params[name] === undefined) delete params[name];
  return { params };
}

/** What is missing to start: a photo, or noise (ticked, or the preset's); null when nothing is. */
function startProblem(kind) {
  if (kind === "live" || currentPhoto()) return null; // a live session is sent its frames
  if (kind === "video") return { error: "Choose a video to dream.", field: "file" };
  if (noise.checked || presetOptions().noise != null) return null;
  return { error: "Choose a photo, or tick Start from noise.", field: "file" };
}

/** The seed, max size, colours and noise into `params`; a problem as {error, field}. */
function readStart(params) {
  const seedText = seed.value.trim();
  if (seedText && !/^\d{1,19}$/.test(seedText)) return { error: "Seed: a whole number, 0 or more.", field: "seed" };
  // A seed beyond 2**53 travels as a BigInt (see toJson).
  if (seedText) params.seed = Number.isSafeInteger(Number(seedText)) ? Number(seedText) : BigInt(seedText);
  if (keepColors.checked) params.keep_colors = true;
  if (!startsFromNoise()) return null;
  const size = noiseSize.value.trim();
  if (!/^\d+\s*[xX]\s*\d+$/.test(size)) return { error: "Noise size: width x height, e.g. 512x512.", field: "noise-size" };
  params.noise = size.replace(/\s+/g, "").toLowerCase();
  return null;
}

/** The number fields of a dream and of this kind into `params`; a problem as {error, field}. */
function readNumbers(kind, params) {
  for (const input of numberFields) {
    const [group, name] = input.dataset.option.split(".");
    const text = input.value.trim();
    if ((group !== "dream" && group !== kind) || text === "") continue;
    const value = Number(text);
    if (!Number.isFinite(value)) return { error: `${labelOf(input)}: a number.`, field: input.id };
    params[name] = Number(input.step) === 1 ? Math.round(value) : value; // a whole-number option
  }
  return null;
}

function labelOf(input) {
  return input.labels.length ? input.labels[0].textContent : input.id;
}

function readSwitches(kind, params) {
  if (kind === "zoom") {
    params.format = format.value;
    if (!zoomLabels.checked) params.labels = false;
  }
  if (kind === "video" && !flow.checked) params.flow = false;
}

/** The params a zoom or a video takes besides a dream's: its options and its switches. */
function motionParams(kind) {
  return [...optionsOf(kind).map((option) => option.name), ...SWITCHES[kind]];
}

/** Motion params kept from a job of another kind do not apply to this one. */
function dropOtherKinds(kind, params) {
  for (const other of Object.keys(SWITCHES)) {
    if (other === kind) continue;
    for (const name of motionParams(other)) if (name in extraParams) delete params[name];
  }
}

/** A live session takes the dream's options and its own (blend), but no noise: drop the rest. */
function keepLiveOnly(params) {
  const taken = new Set([...optionsOf("dream"), ...optionsOf("live")].map((option) => option.name));
  for (const name of Object.keys(params)) if (!taken.has(name) || NOT_LIVE.has(name)) delete params[name];
}

/** Fill the form from a job's params (what was submitted, the seed filled in). */
export async function fillForm(job) {
  const params = job.params || {};
  setKind(job.kind || "dream");
  await chooseModel(params.model);
  const layersKnown = fillLayers(asList(params.layers));
  setClasses(asList(params.classes));
  fillSchedule(params);
  fillStart(params);
  fillMotion(params);
  keepExtras(params);
  showLayer();
  return layersKnown;
}

function asList(value) {
  if (Array.isArray(value)) return value;
  return value == null || value === "" ? [] : [value];
}

function fillStart(params) {
  seed.value = params.seed == null ? "" : String(params.seed);
  keepColors.checked = Boolean(params.keep_colors);
  noise.checked = params.noise != null;
  if (params.noise != null) noiseSize.value = Array.isArray(params.noise) ? params.noise.join("x") : String(params.noise);
  noiseChanged();
}

function fillMotion(params) {
  for (const input of numberFields) {
    const name = input.dataset.option.split(".")[1];
    input.value = params[name] == null ? "" : String(params[name]);
  }
  if (params.format) format.value = params.format;
  zoomLabels.checked = params.labels !== false;
  flow.checked = params.flow !== false;
}

/** Params the form has no control for, but the server knows, travel on as chips. */
function keepExtras(params) {
  const own = new Set(["model", "layers", "classes", "preset", "noise", "seed", "keep_colors", ...sliderNames(),
    ...numberFields.map((input) => input.dataset.option.split(".")[1]), ...SWITCHES.zoom, ...SWITCHES.video]);
  const known = new Set([...optionsOf("dream").map((option) => option.name), ...motionParams("zoom"),
    ...motionParams("video"), ...motionParams("live")]);
  extraParams = Object.fromEntries(Object.entries(params)
    .filter(([name, value]) => !own.has(name) && known.has(name) && value != null));
  renderExtras();
}

function renderExtras() {
  extraChips.replaceChildren(...Object.entries(extraParams).map(([name, value]) => chip(
    `${name} = ${JSON.stringify(value)}`, `Remove setting ${name}`, () => {
      delete extraParams[name];
      renderExtras();
    },
  )));
}

export function wireForm() {
  kindSelect.addEventListener("change", () => setKind(kindSelect.value));
  noise.addEventListener("change", noiseChanged);
  onPhotoChange(photoChanged);
  setKind(kindSelect.value);
  noiseChanged();
}
