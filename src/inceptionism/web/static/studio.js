// Inceptionism studio: the page's behaviour, plain JavaScript with no libraries.
//
// The page talks only to the studio's own server (same origin):
//   GET  /api/options, /api/models, /api/models/{name}/layers, /api/presets, /api/classes?q=
//   POST /api/jobs (multipart: kind, params JSON, image, guide, mask), then
//   GET  /api/jobs/{id}/events (Server-Sent Events: progress, preview, done)
//   GET  /api/jobs?page=&per_page= for the gallery, DELETE /api/jobs/{id} to cancel or delete.
//   GET  /api/atlas?model=&layer=&channels=&size=&steps= (200: every tile drawn; 202: a job draws
//        the missing ones, followed like a dream's), the tiles' PNGs at their url,
//   POST /api/atlas/ranking (multipart: layer, model, image) for the channels a photo excites most.
//
// Concepts, by function name: loadOptions, loadModels, loadLayers, loadPresets, searchClasses,
// setPhoto, paintMask / maskBlob, buildLayerSpec, buildParams, submitJob, followJob, cancelJob,
// showAtlas / fetchAtlas / followAtlasJob / renderAtlas, toggleAtlasChannel, rankAtlas,
// loadGallery / renderGallery / renderJob, dreamAgain, useSettings, deleteJob.

const $ = (selector, root = document) => root.querySelector(selector);

/** The sliders: element id -> option name (the Python API's keyword). */
const SLIDERS = {
  "octaves": "octaves",
  "octave-scale": "octave_scale",
  "steps": "steps",
  "step-size": "step_size",
  "jitter": "jitter",
};

/** Number fields of zoom and video jobs: element id -> parameter name. */
const ZOOM_FIELDS = { frames: "frames", zoom: "zoom", rotate: "rotate" };
const VIDEO_FIELDS = { blend: "blend", start: "start", end: "end" };

/** Every number input: element id -> the option (from /api/options) its min, max and step come from. */
const NUMBER_INPUTS = {
  ...SLIDERS, "max-size": "max_size", ...ZOOM_FIELDS, ...VIDEO_FIELDS,
  "atlas-size": "atlas.size", "atlas-steps": "atlas.steps",
};

/** Parameters the form has a control for; others from a job are kept in state.extraParams. */
const FORM_PARAMS = new Set([
  "model", "layers", "classes", "preset", "noise", "max_size", "seed", "keep_colors",
  ...Object.values(SLIDERS), ...Object.values(ZOOM_FIELDS), ...Object.values(VIDEO_FIELDS),
  "format", "labels", "flow",
]);

/** Zoom and video parameters a job may carry besides the dream options. */
const MOTION_PARAMS = {
  zoom: ["frames", "zoom", "rotate", "shift", "frame_steps", "frame_octaves", "fps", "format", "labels"],
  video: ["blend", "start", "end", "flow"],
};

const PER_PAGE = 12;
const ACTIVE = new Set(["queued", "running"]);
const IMAGE_TYPES = new Set(["image/png", "image/gif", "image/webp", "image/jpeg"]);

const state = {
  options: {},        // option name -> {name, group, default, help, minimum, maximum, step, typical...},
                      // from /api/options (the atlas's as "atlas.size": their names are also dream options')
  models: [],         // from /api/models
  layers: [],         // the current model's [{name, channels}]
  presets: {},        // preset name -> {name, description, options}
  photo: null,        // the current input (a File or Blob), or null
  photoName: "",
  photoUrl: null,     // object URL shown in #photo or #photo-video
  guide: null,        // the guide image (File), or null
  classes: [],        // chosen class names (params.classes)
  classResults: [],   // the last /api/classes answer
  extraLayers: [],    // further layer specs kept from "Use these settings"
  extraParams: {},    // further known options kept from "Use these settings"
  job: null,          // id of the job being followed
  events: null,       // its EventSource
  poll: null,         // timer of the polling fallback when the event stream is gone
  total: 0,           // jobs on the server (the gallery's "more" shows until all are shown)
  mask: { painting: false, last: null, painted: false },
  atlas: null,        // the atlas shown: {model, layer, query, order, tiles, ranking, job, ...}
  ranking: false,     // true while the photo's ranking is being asked for
};

// ---------------------------------------------------------------------------------------------
// Talking to the server

/** Raised for a 4xx/5xx answer: `message` is the server's one-line detail. */
class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** fetch() a same-origin URL; JSON in, JSON out (null for 204). Throws ApiError with the detail. */
async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 204) return null;
  const text = await response.text();
  let body = null;
  try {
    body = text ? parseJson(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    let detail = body && body.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    if (!detail) detail = `${response.status} ${response.statusText || "error"} from ${path}`;
    throw new ApiError(response.status, String(detail), response.headers.get("Retry-After"));
  }
  return body;
}

// Seeds are integers up to 2**63 - 1, beyond what a JavaScript number holds exactly
// (2**53 - 1). They are read as strings and sent back as JSON integers, digit for digit.
const BIG_SEED = /("seed"\s*:\s*)(\d{16,})(?=\s*[,}])/g;

/** JSON.parse, keeping long seeds as digit strings. */
function parseJson(text) {
  return JSON.parse(text.replace(BIG_SEED, '$1"$2"'));
}

/** JSON.stringify, writing a digit-string or BigInt seed as a JSON integer. */
function toJson(value, indent) {
  const text = JSON.stringify(value, (key, item) => (typeof item === "bigint" ? item.toString() : item), indent);
  return text.replace(/("seed":\s*)"(\d+)"/g, "$1$2");
}

/** One line in the aria-live status: kind is "info", "ok", "busy" or "error". */
function setStatus(text, kind = "info") {
  const status = $("#status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function errorText(error) {
  if (error instanceof ApiError) {
    const retry = error.status === 429 && error.retryAfter ? ` (try again in ${error.retryAfter} s)` : "";
    return `${error.message}${retry}`;
  }
  return `${error.message || error}`;
}

// ---------------------------------------------------------------------------------------------
// Options, models, layers, presets, classes

/** The options from /api/options: each input's bounds and step, each slider's default and place. */
async function loadOptions() {
  const options = await api("/api/options");
  state.options = Object.fromEntries(options.map((option) => [optionKey(option), option]));
  for (const [id, key] of Object.entries(NUMBER_INPUTS)) applyBounds($(`#${id}`), state.options[key]);
  for (const [id, name] of Object.entries(SLIDERS)) {
    const option = state.options[name];
    $(`#${id}-default`).textContent = `default ${formatDefault(option ? option.default : null)}`;
    resetSlider(id);
  }
  const seed = state.options.seed;
  if (seed && seed.help) $("#seed").title = seed.help;
}

function optionKey(option) {
  return option.group === "atlas" ? `atlas.${option.name}` : option.name;
}

/**
 * An input's min, max and step from its option: a slider spans the option's typical range (the
 * bounds can be far wider than what dreams use), a number field the bounds themselves.
 */
function applyBounds(input, option) {
  if (!input || !option || option.minimum == null) return;
  const [low, high] = input.type === "range" && option.typical ? option.typical : [option.minimum, option.maximum];
  input.min = String(low);
  input.max = String(high);
  input.step = option.step == null ? "any" : String(option.step);
  const shown = option.bounds ? ` (${option.bounds})` : "";
  input.title = `${option.help}${shown}`;
  if (input.type !== "range" && !input.placeholder && option.default != null) input.placeholder = String(option.default);
}

function formatDefault(value) {
  return value === null || value === undefined ? "preset/default" : String(value);
}

/** The value an untouched slider shows: the preset's, else the default (null: none). */
function sliderBaseline(id) {
  const name = SLIDERS[id];
  const preset = state.presets[$("#preset").value];
  if (preset && preset.options && preset.options[name] != null) return preset.options[name];
  const option = state.options[name];
  return option ? option.default : null;
}

/** Forget that a slider was moved: it shows the preset's or default value and is not sent. */
function resetSlider(id) {
  const input = $(`#${id}`);
  delete input.dataset.touched;
  const baseline = sliderBaseline(id);
  if (baseline != null) input.value = String(baseline);
  showSlider(id);
}

function showSlider(id) {
  const input = $(`#${id}`);
  const output = $(`#${id}-value`);
  const touched = input.dataset.touched === "1";
  const baseline = sliderBaseline(id);
  output.textContent = touched || baseline != null ? input.value : "preset/default";
  input.setAttribute("aria-valuetext", output.textContent);
  output.closest(".slider").classList.toggle("touched", touched);
}

/** Fill #model from /api/models, then its layers. */
async function loadModels() {
  state.models = await api("/api/models");
  const select = $("#model");
  select.replaceChildren(
    ...state.models.map((model) => new Option(`${model.name} (${model.layers} layers)`, model.name)),
  );
  if (state.models.length) await loadLayers(select.value);
}

/** Fill #layer with the layers of `name`, showing their channel counts. */
async function loadLayers(name) {
  const select = $("#layer");
  select.disabled = true;
  const layers = await api(`/api/models/${encodeURIComponent(name)}/layers`);
  state.layers = layers;
  const model = state.models.find((m) => m.name === name);
  const fallback = model ? model.default_layer : "";
  $("#model-help").textContent = model ? model.description : "";
  select.replaceChildren(
    new Option(`Model default${fallback ? ` (${fallback})` : ""}`, ""),
    ...layers.map((layer) => new Option(`${layer.name} — ${layer.channels} channels`, layer.name)),
  );
  select.disabled = false;
  showLayer();
}

/** The channel hint and the layer spec preview under the layer fields. */
function showLayer() {
  const layer = currentLayer();
  $("#channels-help").textContent = layer ? `0..${layer.channels - 1}` : "";
  const spec = buildLayerSpec();
  $("#layer-spec").textContent = spec.error ? spec.error : spec.spec || "model default";
  $("#layer-spec").classList.toggle("invalid", Boolean(spec.error));
  syncAtlasPressed();
}

/** The selected layer, or the model's default layer when "Model default" is selected. */
function currentLayer() {
  const name = $("#layer").value || (state.models.find((m) => m.name === $("#model").value) || {}).default_layer;
  return state.layers.find((layer) => layer.name === name) || null;
}

/** How many channels the layer `name` of the current model has (0 if it is not one of its layers). */
function layerChannels(name) {
  const layer = state.layers.find((candidate) => candidate.name === name);
  return layer ? layer.channels : 0;
}

/** Fill #preset from /api/presets. */
async function loadPresets() {
  const presets = await api("/api/presets");
  state.presets = Object.fromEntries(presets.map((preset) => [preset.name, preset]));
  $("#preset").replaceChildren(
    new Option("None", ""),
    ...presets.map((preset) => new Option(`${preset.name}: ${preset.description}`, preset.name)),
  );
}

let classTimer = null;
let classQuery = 0;

/** Ask /api/classes for labels matching the search box (debounced) and offer them in the datalist. */
function searchClasses() {
  clearTimeout(classTimer);
  classTimer = setTimeout(async () => {
    const q = $("#class-search").value.trim();
    const ticket = ++classQuery;
    try {
      const results = await api(`/api/classes?q=${encodeURIComponent(q)}&limit=20`);
      if (ticket !== classQuery) return; // a newer search answered first
      state.classResults = results;
      $("#class-list").replaceChildren(...results.map((c) => new Option(`#${c.index}`, c.label)));
      $("#class-help").textContent = results.length
        ? `${results.length} match${results.length === 1 ? "" : "es"}: pick one, or press Enter.`
        : `No class matches "${q}".`;
    } catch (error) {
      setStatus(`Class search failed: ${errorText(error)}`, "error");
    }
  }, 180);
}

/** The label the search box names exactly (case-insensitive), if any. */
function matchedClass() {
  const text = $("#class-search").value.trim().toLowerCase();
  if (!text) return null;
  const hit = state.classResults.find((c) => c.label.toLowerCase() === text);
  return hit ? hit.label : null;
}

function addClass(label) {
  if (!label) return;
  if (!state.classes.includes(label)) state.classes.push(label);
  $("#class-search").value = "";
  renderClasses();
  setStatus(`Class added: ${label}.`);
}

function renderClasses() {
  $("#classes").replaceChildren(
    ...state.classes.map((label) => chip(label, `Remove class ${label}`, () => {
      state.classes = state.classes.filter((c) => c !== label);
      renderClasses();
    }, "li")),
  );
}

/** A small labelled chip with a remove button. */
function chip(text, removeLabel, onRemove, tag = "span") {
  const item = document.createElement(tag);
  item.className = "chip";
  const name = document.createElement("span");
  name.textContent = text;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "chip-remove";
  remove.setAttribute("aria-label", removeLabel);
  remove.textContent = "×";
  remove.addEventListener("click", onRemove);
  item.append(name, remove);
  return item;
}

/** Further layers and settings kept from a job the form has no field for. */
function renderExtras() {
  $("#extra-layers").replaceChildren(
    ...state.extraLayers.map((spec) => chip(`+ ${spec}`, `Remove layer ${spec}`, () => {
      state.extraLayers = state.extraLayers.filter((s) => s !== spec);
      renderExtras();
    })),
  );
  $("#extra-params").replaceChildren(
    ...Object.entries(state.extraParams).map(([name, value]) => chip(
      `${name} = ${JSON.stringify(value)}`, `Remove setting ${name}`, () => {
        delete state.extraParams[name];
        renderExtras();
      },
    )),
  );
}

// ---------------------------------------------------------------------------------------------
// The photo and its mask

function isVideoKind() {
  return $("#kind").value === "video";
}

/** Make `blob` the current input: show it, size the mask canvas to it, clear the mask. */
function setPhoto(blob, name) {
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photo = blob;
  state.photoName = blob ? name || blob.name || "photo" : "";
  state.photoUrl = blob ? URL.createObjectURL(blob) : null;
  const isVideo = Boolean(blob && blob.type.startsWith("video/"));
  const img = $("#photo");
  const video = $("#photo-video");
  $("#canvas-wrap").hidden = !blob || isVideo;
  video.hidden = !isVideo;
  $("#photo-placeholder").hidden = Boolean(blob);
  $("#photo-clear").hidden = !blob;
  $("#file-name").textContent = blob ? `Current ${isVideo ? "video" : "photo"}: ${state.photoName}` : "No photo chosen.";
  if (!blob) $("#file").value = "";
  clearMask();
  if (isVideo) {
    img.removeAttribute("src");
    video.src = state.photoUrl;
  } else {
    video.removeAttribute("src");
    if (blob) {
      img.onload = () => {
        const canvas = $("#mask");
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        $("#canvas-wrap").style.setProperty("--ratio", `${img.naturalWidth} / ${img.naturalHeight}`);
        clearMask();
      };
      img.src = state.photoUrl;
    } else {
      img.removeAttribute("src");
    }
  }
  if (blob && $("#noise").checked) {
    $("#noise").checked = false;
    noiseChanged();
  }
  updateBrush();
  photoChangedForAtlas();
}

/** Take a dropped or chosen file as the photo, checking it suits the kind of job. */
function takeFile(file) {
  if (!file) return;
  const wanted = isVideoKind() ? "video/" : "image/";
  if (file.type && !file.type.startsWith(wanted)) {
    setStatus(`${file.name} is not ${isVideoKind() ? "a video" : "an image"}; choose ${wanted.slice(0, -1)} file.`,
      "error");
    return;
  }
  setPhoto(file, file.name);
  setStatus(`Ready: ${file.name}.`);
}

function updateBrush() {
  const usable = Boolean(state.photo) && !state.photo.type.startsWith("video/") && !$("#noise").checked;
  const tools = $("#brush-tools");
  tools.classList.toggle("disabled", !usable);
  for (const control of tools.querySelectorAll("input, select, button")) control.disabled = !usable;
  if (!usable) $("#brush").checked = false;
  $("#mask").classList.toggle("active", $("#brush").checked);
}

function clearMask() {
  const canvas = $("#mask");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  state.mask.painted = false;
}

/** Pointer handlers of the brush: paint (or erase) round strokes on the mask canvas. */
function paintMask(event) {
  const canvas = $("#mask");
  if (!$("#brush").checked) return;
  const rect = canvas.getBoundingClientRect();
  if (!rect.width || !rect.height) return;
  const scale = canvas.width / rect.width;
  const point = { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale };
  if (event.type === "pointerdown") {
    canvas.setPointerCapture(event.pointerId);
    state.mask.painting = true;
    state.mask.last = point;
  } else if (event.type !== "pointermove" || !state.mask.painting) {
    state.mask.painting = false;
    return;
  }
  event.preventDefault();
  const ctx = canvas.getContext("2d");
  ctx.globalCompositeOperation = $("#brush-mode").value === "erase" ? "destination-out" : "source-over";
  ctx.strokeStyle = "#ff3cac";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = Number($("#brush-size").value) * scale;
  ctx.beginPath();
  ctx.moveTo(state.mask.last.x, state.mask.last.y);
  ctx.lineTo(point.x + 0.01, point.y);
  ctx.stroke();
  state.mask.last = point;
  state.mask.painted = true;
}

/** The mask as a PNG the photo's size, white where painted and black elsewhere; null if unpainted. */
async function maskBlob() {
  const canvas = $("#mask");
  if (!state.mask.painted || !canvas.width || !canvas.height) return null;
  const alpha = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let any = false;
  for (let i = 3; i < alpha.length; i += 4) {
    if (alpha[i]) {
      any = true;
      break;
    }
  }
  if (!any) return null; // everything painted was erased again
  const white = document.createElement("canvas");
  white.width = canvas.width;
  white.height = canvas.height;
  const w = white.getContext("2d");
  w.drawImage(canvas, 0, 0);
  w.globalCompositeOperation = "source-in"; // keep the strokes' coverage, make them white
  w.fillStyle = "#fff";
  w.fillRect(0, 0, white.width, white.height);
  const out = document.createElement("canvas");
  out.width = canvas.width;
  out.height = canvas.height;
  const o = out.getContext("2d");
  o.fillStyle = "#000";
  o.fillRect(0, 0, out.width, out.height);
  o.drawImage(white, 0, 0);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

// ---------------------------------------------------------------------------------------------
// The form: kind, noise, parameters

/** Show the fields of the kind of job chosen; a video job takes a video file. */
function setKind(kind) {
  $("#kind").value = kind;
  $("#zoom-fields").hidden = kind !== "zoom";
  $("#video-fields").hidden = kind !== "video";
  const video = kind === "video";
  $("#file").accept = video ? "video/*" : "image/*";
  $("#file-label").textContent = video ? "Drop a video here or choose one" : "Drop a photo here or choose one";
  $("#noise-field").hidden = video;
  if (video && $("#noise").checked) {
    $("#noise").checked = false;
    noiseChanged();
  }
  const wrongType = state.photo && state.photo.type && state.photo.type.startsWith("video/") !== video;
  if (wrongType) {
    setPhoto(null);
    setStatus(video ? "A video job needs a video: choose one." : "Choose a photo (or start from noise).");
  }
  $("#dream").textContent = { dream: "Dream", zoom: "Dream a zoom", video: "Dream the video" }[kind] || "Dream";
}

function noiseChanged() {
  const noise = $("#noise").checked;
  $("#noise-size").disabled = !noise;
  $("#photo-frame").classList.toggle("noise", noise);
  updateBrush();
}

/** The layer spec `name[:channels][@x,y][=weight]` from the layer fields: {spec} or {error}. */
function buildLayerSpec() {
  const channels = $("#channels").value.trim().replace(/\s+/g, "");
  const neuron = $("#neuron").value.trim().replace(/\s+/g, "");
  const weight = $("#weight").value.trim();
  let name = $("#layer").value;
  if (!name && !channels && !neuron && !weight) return { spec: "" };
  if (!name) {
    const layer = currentLayer();
    if (!layer) return { error: "choose a layer" };
    name = layer.name;
  }
  if (channels && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(channels)) {
    return { error: "channels: numbers or ranges, e.g. 3,12 or 0-15", field: "#channels" };
  }
  if (neuron) {
    if (!/^\d+,\d+$/.test(neuron)) return { error: "neuron: x,y in pixels, e.g. 100,80", field: "#neuron" };
    if (!/^\d+$/.test(channels)) return { error: "a neuron needs exactly one channel, e.g. 12", field: "#channels" };
  }
  if (weight && !Number.isFinite(Number(weight))) return { error: "weight: a number", field: "#weight" };
  let spec = name;
  if (channels) spec += `:${channels}`;
  if (neuron) spec += `@${neuron}`;
  if (weight && Number(weight) !== 1) spec += `=${Number(weight)}`;
  return { spec };
}

/** Number of an input, or undefined when it is empty. */
function numberOf(selector) {
  const text = $(selector).value.trim();
  return text === "" ? undefined : Number(text);
}

/**
 * The job's params (the Python API's keyword names) from the form: {params} or {error, field}.
 * Only what the user set is sent; the server, presets and defaults fill in the rest.
 */
function buildParams() {
  const kind = $("#kind").value;
  const params = { ...state.extraParams, model: $("#model").value || undefined };
  const layer = buildLayerSpec();
  if (layer.error) return { error: `Layer: ${layer.error}.`, field: layer.field || "#layer" };
  const layers = [layer.spec, ...state.extraLayers].filter(Boolean);
  if (layers.length) params.layers = layers;
  if (state.classes.length) params.classes = [...state.classes];
  if ($("#preset").value) params.preset = $("#preset").value;
  for (const [id, name] of Object.entries(SLIDERS)) {
    const input = $(`#${id}`);
    const option = state.options[name];
    if (input.dataset.touched === "1") params[name] = option && option.step === 1
      ? Math.round(Number(input.value))
      : Math.round(Number(input.value) * 100) / 100;
  }
  const seed = $("#seed").value.trim();
  if (seed) {
    if (!/^\d{1,19}$/.test(seed)) return { error: "Seed: a whole number, 0 or more.", field: "#seed" };
    params.seed = Number.isSafeInteger(Number(seed)) ? Number(seed) : BigInt(seed); // see toJson
  }
  const maxSize = numberOf("#max-size");
  if (maxSize !== undefined) {
    if (!Number.isInteger(maxSize) || maxSize < 1) return { error: "Max size: a whole number of pixels.", field: "#max-size" };
    params.max_size = maxSize;
  }
  if ($("#keep-colors").checked) params.keep_colors = true;
  if (kind !== "video" && $("#noise").checked) {
    const size = $("#noise-size").value.trim();
    if (!/^\d+\s*[xX]\s*\d+$/.test(size)) return { error: "Noise size: WIDTHxHEIGHT, e.g. 512x512.", field: "#noise-size" };
    params.noise = size.replace(/\s+/g, "").toLowerCase();
  }
  const numbers = kind === "zoom" ? ZOOM_FIELDS : kind === "video" ? VIDEO_FIELDS : {};
  for (const [id, name] of Object.entries(numbers)) {
    const value = numberOf(`#${id}`);
    if (value === undefined) continue;
    if (!Number.isFinite(value)) return { error: `${name}: a number.`, field: `#${id}` };
    const option = state.options[name];
    params[name] = option && option.step === 1 ? Math.round(value) : value;
  }
  if (kind === "zoom") {
    params.format = $("#format").value;
    if (!$("#zoom-labels").checked) params.labels = false;
  }
  if (kind === "video" && !$("#flow").checked) params.flow = false;
  // Motion parameters kept from a job of another kind do not apply to this one.
  for (const [other, names] of Object.entries(MOTION_PARAMS)) {
    if (other !== kind) for (const name of names) if (name in state.extraParams) delete params[name];
  }
  for (const name of Object.keys(params)) if (params[name] === undefined) delete params[name];
  return { params };
}

// ---------------------------------------------------------------------------------------------
// Jobs: submit, follow, cancel

/** POST the form as a job, then follow it. */
async function submitJob(event) {
  if (event) event.preventDefault();
  if (state.job) return;
  const kind = $("#kind").value;
  const built = buildParams();
  for (const field of document.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  if (built.error) {
    setStatus(built.error, "error");
    const field = built.field && $(built.field);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
    return;
  }
  const form = new FormData();
  form.append("kind", kind);
  form.append("params", toJson(built.params));
  const noise = kind !== "video" && $("#noise").checked;
  if (state.photo && !noise) form.append("image", state.photo, state.photoName || "photo");
  if (state.guide) form.append("guide", state.guide, state.guide.name || "guide");
  if (state.photo && !noise && kind !== "video") {
    const mask = await maskBlob();
    if (mask) form.append("mask", mask, "mask.png");
  }
  $("#dream").disabled = true;
  setStatus("Sending the job…", "busy");
  try {
    const job = await api("/api/jobs", { method: "POST", body: form });
    followJob(job.id);
  } catch (error) {
    $("#dream").disabled = false;
    setStatus(`Not started: ${errorText(error)}`, "error");
  }
}

/** Follow job `id` live: progress bar, preview image, and the gallery when it is done. */
function followJob(id) {
  stopFollowing();
  state.job = id;
  $("#dream").disabled = true;
  $("#cancel").disabled = false;
  renderProgress({ state: "queued", progress: 0, frames_done: 0, frames_total: 0 });
  refreshGallery();
  const events = new EventSource(`/api/jobs/${id}/events`);
  state.events = events;
  events.addEventListener("progress", (event) => renderProgress(JSON.parse(event.data)));
  events.addEventListener("preview", (event) => {
    const preview = $("#preview");
    preview.src = JSON.parse(event.data).image;
    preview.hidden = false;
    $("#preview-placeholder").hidden = true;
  });
  events.addEventListener("done", (event) => finishJob(parseJson(event.data)));
  events.addEventListener("error", () => {
    // The stream broke (or was refused). EventSource retries by itself while CONNECTING;
    // once CLOSED, ask for the job instead until it finishes.
    if (events.readyState === EventSource.CLOSED && state.job === id) pollJob(id);
  });
}

/** The fallback when the event stream is gone: ask for the job every second. */
function pollJob(id) {
  if (state.events) state.events.close();
  state.events = null;
  clearTimeout(state.poll);
  state.poll = setTimeout(async () => {
    if (state.job !== id) return;
    try {
      const job = await api(`/api/jobs/${id}`);
      renderProgress(job);
      if (ACTIVE.has(job.state)) pollJob(id);
      else finishJob(job);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        stopFollowing();
        setStatus("The job is gone (deleted).", "error");
      } else {
        pollJob(id);
      }
    }
  }, 1000);
}

function stopFollowing() {
  if (state.events) state.events.close();
  state.events = null;
  clearTimeout(state.poll);
  state.job = null;
  $("#dream").disabled = false;
  $("#cancel").disabled = true;
}

/** Progress bar and status from a progress event (or a Job). */
function renderProgress(data) {
  const progress = $("#progress");
  const value = Math.max(0, Math.min(1, Number(data.progress) || 0));
  progress.value = data.state === "done" ? 1 : value;
  const percent = `${Math.round(progress.value * 100)} %`;
  const frames = data.frames_total > 1 ? `frame ${Math.min(data.frames_done + 1, data.frames_total)} of ${data.frames_total}` : "";
  const text = frames ? `${frames} · ${percent}` : percent;
  $("#progress-text").textContent = text;
  progress.setAttribute("aria-valuetext", text);
  // The status line (aria-live) changes with the state only; the numbers are on the bar.
  if (data.state === "queued") setStatus("Waiting in the queue…", "busy");
  else if (data.state === "running") setStatus("Dreaming…", "busy");
}

/** A followed job ended (done, failed or cancelled): say so, show the result in the gallery. */
function finishJob(job) {
  if (job.id && job.id !== state.job) return;
  stopFollowing();
  renderProgress(job);
  if (job.state === "done") {
    setStatus(`Done: ${job.kind} ${shortId(job.id)} is in the gallery.`, "ok");
    if (job.result && IMAGE_TYPES.has(job.media_type)) {
      const preview = $("#preview");
      preview.src = job.result;
      preview.hidden = false;
      $("#preview-placeholder").hidden = true;
    }
  } else if (job.state === "failed") {
    setStatus(`Failed: ${job.error || "the job failed without a reason"}`, "error");
  } else if (job.state === "cancelled") {
    setStatus("Cancelled.", "info");
  }
  upsertJob(job, { prepend: true });
}

/** Cancel the job being followed (DELETE); its done event says when it has stopped. */
async function cancelJob() {
  const id = state.job;
  if (!id) return;
  $("#cancel").disabled = true;
  setStatus("Cancelling…", "busy");
  try {
    const job = await api(`/api/jobs/${id}`, { method: "DELETE" });
    if (job === null) {
      // 204: the job had finished just before, so the DELETE removed it with its files.
      stopFollowing();
      const item = $(`#gallery .job[data-id="${id}"]`);
      if (item) item.remove();
      refreshGallery();
      setStatus("The job had already finished; cancelling deleted it.", "info");
    }
  } catch (error) {
    $("#cancel").disabled = false;
    setStatus(`Cannot cancel: ${errorText(error)}`, "error");
  }
}

// ---------------------------------------------------------------------------------------------
// The gallery

function shortId(id) {
  return String(id || "").slice(0, 8);
}

/** Load gallery page `page` (1: the newest) and show it: page 1 merges into the items shown
 *  (new jobs on top), later pages append. */
async function loadGallery(page = 1) {
  const answer = await api(`/api/jobs?page=${page}&per_page=${PER_PAGE}`);
  state.total = answer.total;
  renderGallery(answer.jobs, { append: page > 1 });
  return answer;
}

/** Fetch the newest page again and merge it (new jobs on top, changed ones in place). */
async function refreshGallery() {
  try {
    await loadGallery(1);
  } catch (error) {
    setStatus(`Cannot load the gallery: ${errorText(error)}`, "error");
  }
}

/** Show `jobs` in #gallery (newest first), merging them with the items already shown. */
function renderGallery(jobs, { append = false } = {}) {
  const gallery = $("#gallery");
  // On a refresh of page 1, a job not shown yet goes just after the shown job before it.
  let cursor = append ? null : gallery.firstElementChild;
  for (const job of jobs) {
    const old = gallery.querySelector(`.job[data-id="${job.id}"]`);
    if (old) {
      let item = old;
      // A finished job never runs again: an older answer saying "running" does not replace it.
      const stale = !ACTIVE.has(old.dataset.state) && ACTIVE.has(job.state);
      if (!stale && (old.dataset.state !== job.state || old.dataset.result !== String(job.result))) {
        item = renderJob(job);
        old.replaceWith(item);
      }
      if (!append) cursor = item.nextElementSibling;
    } else if (append) {
      gallery.append(renderJob(job));
    } else {
      gallery.insertBefore(renderJob(job), cursor);
    }
  }
  updateGalleryFooter();
  scheduleGalleryRefresh();
}

/** Insert or replace one job's item. */
function upsertJob(job, { prepend = false } = {}) {
  if (!job || !job.id || !("state" in job)) {
    refreshGallery();
    return;
  }
  const gallery = $("#gallery");
  const old = gallery.querySelector(`.job[data-id="${job.id}"]`);
  const item = renderJob(job);
  if (old) old.replaceWith(item);
  else if (prepend) gallery.prepend(item);
  else gallery.append(item);
  updateGalleryFooter();
}

function updateGalleryFooter() {
  const shown = $("#gallery").children.length;
  $("#gallery-empty").hidden = shown > 0;
  $("#more").hidden = shown >= state.total;
}

let galleryTimer = null;

/** While jobs not followed here are queued or running, look at the gallery again now and then. */
function scheduleGalleryRefresh() {
  clearTimeout(galleryTimer);
  const others = [...document.querySelectorAll("#gallery .job")].some(
    (item) => ACTIVE.has(item.dataset.state) && item.dataset.id !== state.job,
  );
  if (others) galleryTimer = setTimeout(refreshGallery, 3000);
}

const EXTENSIONS = { "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4" };

/** One gallery item: the result, its labels, its parameters and what can be done with it. */
function renderJob(job) {
  const item = document.createElement("li");
  item.className = "job";
  item.dataset.id = job.id;
  item.dataset.state = job.state;
  item.dataset.result = String(job.result);
  const titleId = `job-${job.id}-title`;

  const media = document.createElement("div");
  media.className = "job-media";
  if (job.result && job.media_type === "video/mp4") {
    const video = document.createElement("video");
    video.controls = true;
    video.preload = "metadata";
    video.src = job.result;
    video.setAttribute("aria-labelledby", titleId);
    media.append(video);
  } else if (job.result) {
    const img = document.createElement("img");
    img.src = job.result;
    img.alt = `Result of ${job.kind} ${shortId(job.id)}`;
    img.loading = "lazy";
    media.append(img);
  } else {
    const placeholder = document.createElement("p");
    placeholder.className = "placeholder";
    placeholder.textContent = ACTIVE.has(job.state)
      ? `${job.state === "queued" ? "Queued" : "Dreaming"}… ${Math.round((job.progress || 0) * 100)} %`
      : job.state === "failed" ? "Failed" : job.state === "cancelled" ? "Cancelled" : "No result";
    media.append(placeholder);
  }
  item.append(media);

  const title = document.createElement("h3");
  title.id = titleId;
  title.className = "job-title";
  const created = job.created ? new Date(job.created) : null;
  const when = created && !Number.isNaN(created.getTime()) ? created.toLocaleString() : "";
  let layers = job.params && (job.params.layers || job.params.classes);
  if (job.kind === "atlas" && job.params && job.params.layer) {
    const channels = Array.isArray(job.params.channels) ? formatChannels(job.params.channels) : "";
    layers = [`${job.params.layer}${channels ? `:${channels}` : ""}`];
  }
  title.textContent = `${job.kind} ${shortId(job.id)}${layers && layers.length ? ` · ${layers.join(" + ")}` : ""}`;
  const meta = document.createElement("p");
  meta.className = "job-meta";
  const badge = document.createElement("span");
  badge.className = `badge ${job.state}`;
  badge.textContent = job.state;
  meta.append(badge, document.createTextNode(when ? ` ${when}` : ""));
  item.append(title, meta);

  if (job.error) {
    const error = document.createElement("p");
    error.className = "job-error";
    error.textContent = job.error;
    item.append(error);
  }

  if (job.chart) {
    const chart = document.createElement("img");
    chart.className = "chart";
    chart.src = job.chart;
    chart.alt = `Top labels along zoom ${shortId(job.id)}`;
    chart.loading = "lazy";
    item.append(chart);
  }

  if (job.labels) item.append(renderLabels(job.labels));

  const details = document.createElement("details");
  details.className = "params";
  const summary = document.createElement("summary");
  summary.textContent = "Parameters";
  const pre = document.createElement("pre");
  pre.textContent = toJson(job.params || {}, 2);
  details.append(summary, pre);
  item.append(details);

  const actions = document.createElement("div");
  actions.className = "job-actions";
  if (job.result) {
    const download = document.createElement("a");
    download.className = "download button";
    download.href = job.result;
    download.download = `inceptionism-${job.kind}-${shortId(job.id)}.${EXTENSIONS[job.media_type] || "png"}`;
    download.textContent = "Download";
    download.setAttribute("aria-describedby", titleId);
    actions.append(download);
  }
  if (job.result && IMAGE_TYPES.has(job.media_type)) {
    actions.append(jobButton("again", "Dream again on this result", titleId, () => dreamAgain(job)));
  }
  actions.append(jobButton("use", "Use these settings", titleId, () => useSettings(job)));
  actions.append(jobButton("delete", ACTIVE.has(job.state) ? "Cancel" : "Delete", titleId, () => deleteJob(job)));
  item.append(actions);
  return item;
}

function jobButton(className, text, describedBy, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.textContent = text;
  button.setAttribute("aria-describedby", describedBy);
  button.addEventListener("click", onClick);
  return button;
}

/** The top labels before and after, as two short lists. */
function renderLabels(labels) {
  const block = document.createElement("div");
  block.className = "labels";
  for (const [key, heading] of [["before", "Before"], ["after", "After"]]) {
    const list = labels[key];
    if (!Array.isArray(list)) continue;
    const column = document.createElement("div");
    const h = document.createElement("h4");
    h.textContent = heading;
    const ol = document.createElement("ol");
    for (const { label, probability } of list) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = label;
      const p = document.createElement("span");
      p.className = "probability";
      p.textContent = `${(probability * 100).toFixed(1)} %`;
      li.append(name, p);
      ol.append(li);
    }
    column.append(h, ol);
    block.append(column);
  }
  return block;
}

/** Fetch a job's result and make it the current photo, to dream on it again. */
async function dreamAgain(job) {
  setStatus("Fetching the result…", "busy");
  try {
    const response = await fetch(job.result, { credentials: "same-origin" });
    if (!response.ok) throw new ApiError(response.status, `cannot fetch the result (${response.status})`);
    const blob = await response.blob();
    const type = blob.type || job.media_type || "image/png";
    const name = `dream-${shortId(job.id)}.${EXTENSIONS[type] || "png"}`;
    if (isVideoKind()) setKind("dream");
    setPhoto(new File([blob], name, { type }), name);
    $("#file").value = ""; // the file input no longer names the current photo
    $("#photo-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
    setStatus(`The result of ${shortId(job.id)} is the current photo: dream again.`, "ok");
  } catch (error) {
    setStatus(`Dream again: ${errorText(error)}`, "error");
  }
}

/** Fill the form from a job's parameters (what was submitted, the seed filled in). */
async function useSettings(job) {
  const params = job.params || {};
  try {
    if (job.kind === "atlas") {
      // An atlas job's settings are the atlas panel's: fill it in and show that atlas.
      await useAtlasSettings(job);
      return;
    }
    setKind(job.kind || "dream");
    if (params.model && params.model !== $("#model").value && state.models.some((m) => m.name === params.model)) {
      $("#model").value = params.model;
      clearAtlas();
      await loadLayers(params.model);
    }
    const specs = Array.isArray(params.layers) ? params.layers : params.layers ? [params.layers] : [];
    fillLayer(specs[0] || "");
    state.extraLayers = specs.slice(1);
    state.classes = (Array.isArray(params.classes) ? params.classes : params.classes ? [params.classes] : [])
      .map(String);
    renderClasses();
    $("#preset").value = params.preset && state.presets[params.preset] ? params.preset : "";
    for (const [id, name] of Object.entries(SLIDERS)) {
      if (params[name] == null) resetSlider(id);
      else {
        $(`#${id}`).value = String(params[name]);
        $(`#${id}`).dataset.touched = "1";
        showSlider(id);
      }
    }
    $("#seed").value = params.seed == null ? "" : String(params.seed);
    $("#max-size").value = params.max_size == null ? "" : String(params.max_size);
    $("#keep-colors").checked = Boolean(params.keep_colors);
    const noise = params.noise;
    $("#noise").checked = noise != null;
    if (noise != null) $("#noise-size").value = Array.isArray(noise) ? noise.join("x") : String(noise);
    noiseChanged();
    for (const [id, name] of Object.entries({ ...ZOOM_FIELDS, ...VIDEO_FIELDS })) {
      $(`#${id}`).value = params[name] == null ? "" : String(params[name]);
    }
    if (params.format) $("#format").value = params.format;
    $("#zoom-labels").checked = params.labels !== false;
    $("#flow").checked = params.flow !== false;
    // Known options the form has no control for travel on, shown as chips.
    const known = new Set([...Object.keys(state.options), ...MOTION_PARAMS.zoom, ...MOTION_PARAMS.video]);
    state.extraParams = Object.fromEntries(
      Object.entries(params).filter(([name, value]) => !FORM_PARAMS.has(name) && known.has(name) && value != null),
    );
    renderExtras();
    showLayer();
    setStatus(`Settings of ${shortId(job.id)} are in the form.`, "ok");
  } catch (error) {
    setStatus(`Use these settings: ${errorText(error)}`, "error");
  }
}

/** Put a layer spec `name[:channels][@x,y][=weight]` into the layer fields. */
function fillLayer(spec) {
  const match = /^([^:=@]+?)(?::([^=@]*))?(?:@([^=]*))?(?:=(.*))?$/.exec(spec.trim());
  const name = match ? match[1].trim() : "";
  const known = state.layers.some((layer) => layer.name === name);
  $("#layer").value = known ? name : "";
  $("#channels").value = match && match[2] ? match[2] : "";
  $("#neuron").value = match && match[3] ? match[3] : "";
  $("#weight").value = match && match[4] ? match[4] : "";
  if (spec && !known) setStatus(`Layer ${name} is not in this model; the model's default is selected.`, "error");
}

/** Delete a finished job with its files, or cancel a queued or running one. */
async function deleteJob(job) {
  try {
    const answer = await api(`/api/jobs/${job.id}`, { method: "DELETE" });
    if (answer === null) {
      const item = $(`#gallery .job[data-id="${job.id}"]`);
      if (item) {
        const next = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        // Keep the keyboard user's place: focus moves to a neighbour's button.
        const focus = next && next.querySelector(".delete");
        if (focus) focus.focus();
      }
      state.total = Math.max(0, state.total - 1);
      updateGalleryFooter();
      setStatus(`Deleted ${shortId(job.id)}.`, "ok");
    } else {
      setStatus(`Cancelling ${shortId(job.id)}…`, "busy");
      upsertJob(answer);
      if (job.id !== state.job) setTimeout(refreshGallery, 1000);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      const item = $(`#gallery .job[data-id="${job.id}"]`);
      if (item) item.remove();
      updateGalleryFooter();
    }
    setStatus(`Delete: ${errorText(error)}`, "error");
  }
}

// ---------------------------------------------------------------------------------------------
// The atlas: for each channel of a layer, the image it likes best; its tiles select channels

/**
 * The channels the layer spec's field names, to press their tiles: a list, or null when the text
 * is not a channel list (the server checks and refuses it when the job is sent). Only channels
 * under `count` (the layer's) are read.
 */
function chosenChannels(text, count) {
  const compact = String(text || "").replace(/\s+/g, "");
  if (!compact) return [];
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(compact)) return null;
  const channels = [];
  for (const part of compact.split(",")) {
    const [first, last = first] = part.split("-").map(Number);
    for (let channel = first; channel <= Math.min(last, count - 1); channel += 1) channels.push(channel);
  }
  return channels;
}

/** Channels as the layer spec writes them: sorted, without repeats, runs of three or more as ranges. */
function formatChannels(channels) {
  const sorted = [...new Set(channels)].sort((a, b) => a - b);
  const parts = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j += 1;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k += 1) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(",");
}

function formatActivation(value) {
  if (value == null || !Number.isFinite(Number(value))) return "";
  return String(Number(Number(value).toPrecision(3)));
}

let atlasTicket = 0; // each "Show atlas" (or model change) starts a new ticket; older answers are dropped

/**
 * What the atlas fields ask for: {model, layer, query} or {error, field}. The channels, size and
 * steps are checked by the server (one parser, the options' bounds); its refusal is shown as is.
 */
function atlasRequest() {
  const layer = currentLayer();
  if (!layer) return { error: "choose a model and a layer first", field: "#layer" };
  const channelsText = $("#atlas-channels").value.trim().replace(/\s+/g, "") || `0-${layer.channels - 1}`;
  const query = new URLSearchParams({ model: $("#model").value, layer: layer.name, channels: channelsText });
  for (const [id, name] of [["#atlas-size", "size"], ["#atlas-steps", "steps"]]) {
    const text = $(id).value.trim();
    if (text) query.set(name, text);
  }
  return { model: $("#model").value, layer: layer.name, query: query.toString() };
}

function setAtlasStatus(text, kind = "info") {
  const status = $("#atlas-status");
  status.textContent = text;
  status.dataset.kind = kind;
}

/** "Show atlas": ask for the tiles; those not drawn yet are placeholders until the job draws them. */
async function showAtlas() {
  for (const id of ["#atlas-channels", "#atlas-size", "#atlas-steps", "#layer"]) $(id).removeAttribute("aria-invalid");
  const request = atlasRequest();
  if (request.error) {
    setAtlasStatus(`Atlas: ${request.error}.`, "error");
    const field = $(request.field);
    field.setAttribute("aria-invalid", "true");
    field.focus();
    return;
  }
  stopAtlasJob();
  const ticket = ++atlasTicket;
  state.atlas = {
    model: request.model, layer: request.layer, query: request.query,
    order: [], tiles: new Map(), ranking: null, job: null, rounds: 0, framesDone: -1,
  };
  $("#atlas").replaceChildren();
  $("#atlas").setAttribute("aria-label", `Channels of ${request.layer}: press a tile to dream its channel`);
  $("#atlas").removeAttribute("aria-labelledby");
  setAtlasStatus(`Asking for the tiles of ${request.layer}…`, "busy");
  showLayer();
  await fetchAtlas(ticket);
}

/** GET /api/atlas for the atlas shown; fill in the tiles drawn, and follow the job drawing the others. */
async function fetchAtlas(ticket) {
  const atlas = state.atlas;
  if (!atlas || ticket !== atlasTicket) return;
  let answer;
  try {
    answer = await api(`/api/atlas?${atlas.query}`);
  } catch (error) {
    if (ticket !== atlasTicket) return;
    stopAtlasJob();
    setAtlasStatus(`Atlas: ${errorText(error)}`, "error");
    updateRankButton();
    return;
  }
  if (ticket !== atlasTicket) return;
  atlas.order = answer.tiles.map((tile) => tile.channel);
  for (const tile of answer.tiles) atlas.tiles.set(tile.channel, tile);
  renderAtlas();
  const drawn = answer.tiles.filter((tile) => tile.url).length;
  if (answer.state === "done" || !answer.job) {
    const cached = atlas.rounds === 0; // every tile was in the cache already
    stopAtlasJob();
    setAtlasStatus(`${drawn} tile${drawn === 1 ? "" : "s"} of ${atlas.layer}${cached ? " (drawn before)" : ""}: press tiles to choose channels.`, "ok");
  } else if (answer.job !== atlas.job) {
    followAtlasJob(ticket, answer.job, answer.state, drawn, answer.tiles.length);
  }
}

/** Follow the job drawing the atlas: its progress on the bar, the tiles as batches finish. */
function followAtlasJob(ticket, id, jobState, drawn, total) {
  stopAtlasJob();
  const atlas = state.atlas;
  atlas.job = id;
  atlas.rounds += 1;
  atlas.framesDone = drawn;
  $("#atlas-progress-row").hidden = false;
  renderAtlasProgress({ state: jobState, progress: total ? drawn / total : 0, frames_done: drawn, frames_total: total });
  refreshGallery();
  const events = new EventSource(`/api/jobs/${id}/events`);
  atlas.events = events;
  events.addEventListener("progress", (event) => {
    if (ticket !== atlasTicket) return;
    const data = JSON.parse(event.data);
    renderAtlasProgress(data);
    // A batch of tiles finished: fetch their URLs so they appear before the whole atlas is done.
    if (data.state === "running" && data.frames_done > atlas.framesDone && data.frames_done < data.frames_total) {
      atlas.framesDone = data.frames_done;
      refreshAtlasTiles(ticket);
    }
  });
  events.addEventListener("done", (event) => atlasJobEnded(ticket, parseJson(event.data)));
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED && ticket === atlasTicket) pollAtlasJob(ticket, id);
  });
}

/** The fallback when the event stream is gone: ask for the job every second. */
function pollAtlasJob(ticket, id) {
  const atlas = state.atlas;
  if (atlas.events) atlas.events.close();
  atlas.events = null;
  clearTimeout(atlas.poll);
  atlas.poll = setTimeout(async () => {
    if (ticket !== atlasTicket) return;
    try {
      const job = await api(`/api/jobs/${id}`);
      if (ticket !== atlasTicket) return;
      renderAtlasProgress(job);
      if (ACTIVE.has(job.state)) {
        if (job.frames_done > atlas.framesDone) {
          atlas.framesDone = job.frames_done;
          refreshAtlasTiles(ticket);
        }
        pollAtlasJob(ticket, id);
      } else {
        atlasJobEnded(ticket, job);
      }
    } catch (error) {
      if (ticket !== atlasTicket) return;
      if (error instanceof ApiError && error.status === 404) atlasJobEnded(ticket, { id, state: "cancelled" });
      else pollAtlasJob(ticket, id);
    }
  }, 1000);
}

/** Fetch the tiles drawn so far while the job goes on (only the URLs are taken from the answer). */
async function refreshAtlasTiles(ticket) {
  const atlas = state.atlas;
  try {
    const answer = await api(`/api/atlas?${atlas.query}&draw=false`); // only look: never start a job
    if (ticket !== atlasTicket) return;
    for (const tile of answer.tiles) atlas.tiles.set(tile.channel, tile);
    renderAtlas();
  } catch {
    // The job's end fetches them again.
  }
}

/** The drawing job ended: done fetches the tiles; failed or cancelled says so (and asks for no new job). */
function atlasJobEnded(ticket, job) {
  if (ticket !== atlasTicket) return;
  const atlas = state.atlas;
  stopAtlasJob({ keepJob: true });
  refreshGallery();
  if (job.state === "done") {
    if (atlas.rounds >= 3) {
      setAtlasStatus("Atlas: the tiles were drawn but cannot be found in the tile cache.", "error");
      return;
    }
    fetchAtlas(ticket);
  } else if (job.state === "failed") {
    setAtlasStatus(`Atlas failed: ${job.error || "the job failed without a reason"}`, "error");
  } else {
    setAtlasStatus("The atlas job was cancelled; Show atlas draws the missing tiles.", "info");
  }
}

/** Stop following the atlas job (its drawing goes on on the server) and hide the bar. */
function stopAtlasJob({ keepJob = false } = {}) {
  const atlas = state.atlas;
  $("#atlas-progress-row").hidden = true;
  if (!atlas) return;
  if (atlas.events) atlas.events.close();
  atlas.events = null;
  clearTimeout(atlas.poll);
  atlas.poll = null;
  if (!keepJob) atlas.job = null;
}

function renderAtlasProgress(data) {
  const progress = $("#atlas-progress");
  progress.value = data.state === "done" ? 1 : Math.max(0, Math.min(1, Number(data.progress) || 0));
  // Tiles count as the atlas's frames; a job still queued says 0 of 1, so count the tiles shown.
  const atlas = state.atlas;
  const total = atlas && atlas.order.length ? atlas.order.length : data.frames_total || 0;
  const drawn = atlas ? [...atlas.tiles.values()].filter((tile) => tile.url).length : 0;
  const done = Math.min(Math.max(data.state === "running" ? data.frames_done || 0 : 0, drawn), total);
  const text = `${done} of ${total} tiles · ${Math.round(progress.value * 100)} %`;
  $("#atlas-progress-text").textContent = text;
  progress.setAttribute("aria-valuetext", text);
  const layer = atlas ? atlas.layer : "the layer";
  if (data.state === "queued") setAtlasStatus(`Waiting in the queue to draw ${layer}…`, "busy");
  else if (data.state === "running") setAtlasStatus(`Drawing the tiles of ${layer}…`, "busy");
}

/** Forget the atlas shown (another model was chosen). */
function clearAtlas() {
  stopAtlasJob();
  atlasTicket += 1;
  state.atlas = null;
  $("#atlas").replaceChildren();
  setAtlasStatus("");
  updateRankButton();
}

/** The tiles in their order (the photo's ranking, else as asked), each filled in once drawn. */
function renderAtlas() {
  const atlas = state.atlas;
  const grid = $("#atlas");
  if (!atlas) return;
  let order = atlas.order;
  if (atlas.ranking) {
    const rank = new Map([...atlas.ranking.keys()].map((channel, index) => [channel, index]));
    order = [...order].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
  }
  const existing = new Map([...grid.children].map((button) => [Number(button.dataset.channel), button]));
  const buttons = order.map((channel) => {
    const button = existing.get(channel) || tileButton(channel);
    updateTile(button, atlas.tiles.get(channel) || { channel, url: null, activation: null });
    return button;
  });
  const same = buttons.length === grid.children.length && buttons.every((button, i) => grid.children[i] === button);
  if (!same) {
    const focused = grid.contains(document.activeElement) ? document.activeElement : null;
    grid.replaceChildren(...buttons);
    if (focused) focused.focus({ preventScroll: true });
  }
  syncAtlasPressed();
  updateRankButton();
}

function tileButton(channel) {
  const layer = state.atlas.layer;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "atlas-tile pending";
  button.dataset.channel = String(channel);
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-label", `${layer} channel ${channel}`);
  const picture = document.createElement("span");
  picture.className = "tile-image";
  const caption = document.createElement("span");
  caption.className = "tile-caption";
  const number = document.createElement("span");
  number.className = "tile-channel";
  number.textContent = String(channel);
  const activation = document.createElement("span");
  activation.className = "tile-activation";
  activation.id = `atlas-activation-${channel}`;
  button.setAttribute("aria-describedby", activation.id);
  caption.append(number, activation);
  button.append(picture, caption);
  button.addEventListener("click", () => toggleAtlasChannel(channel));
  return button;
}

/** Put a tile's image in once it is drawn, and the photo's activation under it once ranked. */
function updateTile(button, tile) {
  const atlas = state.atlas;
  const channel = Number(button.dataset.channel);
  const picture = button.querySelector(".tile-image");
  let img = picture.querySelector("img");
  if (tile.url && (!img || img.getAttribute("src") !== tile.url)) {
    if (!img) {
      img = document.createElement("img");
      img.alt = `${atlas.layer} channel ${channel}`;
      img.decoding = "async";
      img.width = 64;
      img.height = 64;
      picture.append(img);
    }
    img.src = tile.url;
  }
  button.classList.toggle("pending", !tile.url);
  const own = tile.activation != null ? `; on its own tile ${formatActivation(tile.activation)}` : "";
  button.title = `${atlas.layer}:${channel}${tile.url ? own : " (being drawn)"}`;
  const activation = button.querySelector(".tile-activation");
  const ranked = atlas.ranking && atlas.ranking.get(channel);
  if (ranked != null) {
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "activation in your photo ";
    activation.replaceChildren(hidden, document.createTextNode(formatActivation(ranked)));
    activation.title = `mean activation of ${atlas.layer}:${channel} in your photo`;
  } else {
    activation.replaceChildren();
    activation.removeAttribute("title");
  }
}

/** The layer the layer fields name (the model's default when "Model default" is selected). */
function specLayerName() {
  const layer = currentLayer();
  return layer ? layer.name : "";
}

/** A tile was pressed: add its channel to the Channels field, or take it out. */
function toggleAtlasChannel(channel) {
  const atlas = state.atlas;
  if (!atlas) return;
  let chosen = chosenChannels($("#channels").value, layerChannels(atlas.layer)) || [];
  if ($("#layer").value !== atlas.layer) {
    // The tiles are of another layer than the fields name: they name this layer now.
    if (specLayerName() !== atlas.layer) chosen = [];
    $("#layer").value = atlas.layer;
  }
  const set = new Set(chosen);
  if (set.has(channel)) set.delete(channel);
  else set.add(channel);
  $("#channels").value = formatChannels([...set]);
  $("#channels").removeAttribute("aria-invalid");
  showLayer();
}

/** Each tile is pressed when the layer spec dreams its channel. */
function syncAtlasPressed() {
  const atlas = state.atlas;
  const grid = $("#atlas");
  const sameLayer = atlas && specLayerName() === atlas.layer && $("#model").value === atlas.model;
  const chosen = new Set(sameLayer ? chosenChannels($("#channels").value, layerChannels(atlas.layer)) || [] : []);
  for (const button of grid.children) {
    button.setAttribute("aria-pressed", String(chosen.has(Number(button.dataset.channel))));
  }
  const layer = currentLayer();
  const help = $("#atlas-help");
  if (atlas && layer && atlas.layer !== layer.name) {
    help.textContent = `These tiles are of ${atlas.layer}; Show atlas draws those of ${layer.name}.`;
  } else if (layer) {
    help.textContent = `What each of the ${layer.channels} channels of ${layer.name} likes best. Press tiles to dream those channels.`;
  }
}

function updateRankButton() {
  const usable = Boolean(state.photo) && !state.photo.type.startsWith("video/");
  const tiles = Boolean(state.atlas && state.atlas.order.length);
  $("#atlas-rank").disabled = !usable || !tiles || state.ranking;
  $("#atlas-rank-help").textContent = !usable
    ? "Choose a photo to see which channels it excites most."
    : !tiles ? "Show an atlas first; then its tiles are ordered by how strongly your photo excites them."
      : "Orders the tiles by how strongly your photo excites each channel.";
}

/** "What it sees in your photo": POST the photo, order the tiles by its ranking, show the activations. */
async function rankAtlas() {
  const atlas = state.atlas;
  if (!atlas || !state.photo || state.ranking) return;
  const ticket = atlasTicket;
  const form = new FormData();
  form.append("layer", atlas.layer);
  if (atlas.model) form.append("model", atlas.model);
  form.append("image", state.photo, state.photoName || "photo");
  state.ranking = true;
  updateRankButton();
  setAtlasStatus("Looking at your photo…", "busy");
  try {
    const ranking = await api("/api/atlas/ranking", { method: "POST", body: form });
    if (ticket !== atlasTicket) return;
    atlas.ranking = new Map(ranking.map((item) => [item.channel, item.activation]));
    renderAtlas();
    const shown = new Set(atlas.order);
    const top = ranking.filter((item) => shown.has(item.channel)).slice(0, 3).map((item) => item.channel);
    const best = ranking.slice(0, 5).map((item) => item.channel);
    setAtlasStatus(`Strongest in your photo among these tiles: ${top.join(", ")}; in all of ${atlas.layer}: ${best.join(", ")}.`, "ok");
  } catch (error) {
    if (ticket === atlasTicket) setAtlasStatus(`Ranking: ${errorText(error)}`, "error");
  } finally {
    state.ranking = false;
    updateRankButton();
  }
}

/** A new photo: the ranking of the old one no longer holds. */
function photoChangedForAtlas() {
  if (state.atlas && state.atlas.ranking) {
    state.atlas.ranking = null;
    renderAtlas();
    setAtlasStatus("The photo changed: the tiles are in channel order again.");
  }
  updateRankButton();
}

/** Fill the atlas fields from an atlas job of the gallery, and show that atlas. */
async function useAtlasSettings(job) {
  const params = job.params || {};
  if (params.model && params.model !== $("#model").value && state.models.some((m) => m.name === params.model)) {
    $("#model").value = params.model;
    clearAtlas();
    await loadLayers(params.model);
  }
  if (!params.layer || !state.layers.some((layer) => layer.name === params.layer)) {
    setAtlasStatus(`Layer ${params.layer || "(none)"} of that atlas is not in this model.`, "error");
    return;
  }
  $("#layer").value = params.layer;
  if (Array.isArray(params.channels)) $("#atlas-channels").value = formatChannels(params.channels);
  if (params.size != null) $("#atlas-size").value = String(params.size);
  if (params.steps != null) $("#atlas-steps").value = String(params.steps);
  showLayer();
  $("#atlas-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
  await showAtlas();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $("#studio").addEventListener("submit", submitJob);
  $("#cancel").addEventListener("click", cancelJob);
  $("#kind").addEventListener("change", (event) => setKind(event.target.value));

  // The photo: the file input, or a file dropped on the drop zone or on the photo panel.
  $("#file").addEventListener("change", (event) => takeFile(event.target.files[0]));
  for (const zone of [$("#dropzone"), $("#photo-panel")]) {
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      takeFile(event.dataTransfer.files[0]);
    });
  }
  $("#photo-clear").addEventListener("click", () => {
    setPhoto(null);
    $("#file").focus();
  });
  $("#noise").addEventListener("change", noiseChanged);

  $("#guide").addEventListener("change", (event) => {
    state.guide = event.target.files[0] || null;
    $("#guide-clear").hidden = !state.guide;
  });
  $("#guide-clear").addEventListener("click", () => {
    state.guide = null;
    $("#guide").value = "";
    $("#guide-clear").hidden = true;
    $("#guide").focus();
  });

  // The mask brush.
  const canvas = $("#mask");
  for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel"]) {
    canvas.addEventListener(type, paintMask);
  }
  $("#brush").addEventListener("change", updateBrush);
  $("#mask-clear").addEventListener("click", clearMask);

  // Objective.
  $("#model").addEventListener("change", async (event) => {
    clearAtlas(); // its tiles are of the other model
    try {
      await loadLayers(event.target.value);
    } catch (error) {
      setStatus(`Cannot load the layers: ${errorText(error)}`, "error");
    }
  });
  for (const id of ["#layer", "#channels", "#neuron", "#weight"]) {
    $(id).addEventListener("input", showLayer);
    $(id).addEventListener("change", showLayer);
  }
  const search = $("#class-search");
  search.addEventListener("input", (event) => {
    // Picking from the datalist replaces the text at once: take that pick.
    const picked = !(event instanceof InputEvent) || event.inputType === "insertReplacementText";
    if (picked && matchedClass()) addClass(matchedClass());
    else searchClasses();
  });
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter adds a class here; it does not start a dream
    addTypedClass();
  });
  $("#class-add").addEventListener("click", addTypedClass);

  // Schedule.
  for (const id of Object.keys(SLIDERS)) {
    $(`#${id}`).addEventListener("input", (event) => {
      event.target.dataset.touched = "1";
      showSlider(id);
    });
  }
  for (const button of document.querySelectorAll(".slider .reset")) {
    button.addEventListener("click", () => resetSlider(button.dataset.for));
  }
  $("#preset").addEventListener("change", () => {
    for (const id of Object.keys(SLIDERS)) if ($(`#${id}`).dataset.touched !== "1") resetSlider(id);
    const preset = state.presets[$("#preset").value];
    $("#preset-help").textContent = preset ? preset.description : "Sliders you have not moved follow the preset.";
  });

  // The atlas. Enter in its fields shows the atlas (it does not start a dream).
  $("#atlas-show").addEventListener("click", showAtlas);
  $("#atlas-rank").addEventListener("click", rankAtlas);
  for (const id of ["#atlas-channels", "#atlas-size", "#atlas-steps"]) {
    $(id).addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      showAtlas();
    });
  }

  $("#more").addEventListener("click", async () => {
    try {
      // The page after the items shown: deletions and new jobs since then shift the pages,
      // so it is counted from what is shown (items already there are skipped).
      await loadGallery(Math.floor($("#gallery").children.length / PER_PAGE) + 1);
    } catch (error) {
      setStatus(`Cannot load more: ${errorText(error)}`, "error");
    }
  });
}

/** Add the class the search box names; without an exact match, the first search result. */
async function addTypedClass() {
  const text = $("#class-search").value.trim();
  if (!text) return;
  let label = matchedClass();
  if (!label) {
    try {
      const results = await api(`/api/classes?q=${encodeURIComponent(text)}&limit=20`);
      state.classResults = results;
      const exact = results.find((c) => c.label.toLowerCase() === text.toLowerCase());
      label = exact ? exact.label : results.length === 1 ? results[0].label : null;
      if (!label) {
        setStatus(results.length ? `Several classes match "${text}": pick one from the list.`
          : `No ImageNet class matches "${text}".`, "error");
        return;
      }
    } catch (error) {
      setStatus(`Class search failed: ${errorText(error)}`, "error");
      return;
    }
  }
  addClass(label);
}

async function start() {
  wire();
  setKind($("#kind").value);
  noiseChanged();
  updateBrush();
  updateRankButton();
  try {
    // Presets before options: an untouched slider shows the selected preset's value.
    await Promise.all([loadPresets(), loadModels()]);
    await loadOptions();
    setStatus("Ready: choose a photo, or start from noise.");
  } catch (error) {
    setStatus(`Cannot reach the studio's server: ${errorText(error)}`, "error");
  }
  try {
    const answer = await loadGallery(1);
    // A job still running from before a reload: follow it again (an atlas in the atlas panel).
    const running = answer.jobs.find((job) => ACTIVE.has(job.state) && job.kind !== "atlas");
    if (running && !state.job) followJob(running.id);
    const drawing = answer.jobs.find((job) => ACTIVE.has(job.state) && job.kind === "atlas");
    if (drawing && !state.atlas) await useAtlasSettings(drawing);
  } catch (error) {
    setStatus(`Cannot load the gallery: ${errorText(error)}`, "error");
  }
}

start();
