// What to dream: the model, its layers, and the layer spec `name[:channels][@x,y][=weight]`
// the layer fields make (plus further layers kept from a job, shown as chips).

import { api } from "./api.js";
import { byId, chip } from "./dom.js";
import { formatChannels, isChannelList, parseChannels } from "./format.js";

const model = byId("model");
const modelHelp = byId("model-help");
const layer = byId("layer");
const channels = byId("channels");
const channelsHelp = byId("channels-help");
const neuron = byId("neuron");
const weight = byId("weight");
const specShown = byId("layer-spec");
const extraChips = byId("extra-layers");

let models = []; // from /api/models
let layers = []; // the current model's [{name, channels}]
let extraLayers = []; // further layer specs kept from "Use these settings"
const layerListeners = [];
const modelListeners = [];

/** Call `listener()` whenever the layer spec changes (another layer, channels...). */
export function onLayerChange(listener) {
  layerListeners.push(listener);
}

/** Call `listener()` when another model is chosen, before its layers are loaded. */
export function onModelChange(listener) {
  modelListeners.push(listener);
}

/** Fill the model list from /api/models, then the layers of the first. */
export async function loadModels() {
  models = await api("/api/models");
  model.replaceChildren(...models.map((item) => new Option(`${item.name} (${item.layers} layers)`, item.name)));
  if (models.length) await loadLayers(model.value);
}

/** Fill the layer list with the layers of model `name`, each with its channel count. */
export async function loadLayers(name) {
  layer.disabled = true;
  layers = await api(`/api/models/${encodeURIComponent(name)}/layers`);
  const info = models.find((item) => item.name === name);
  const fallback = info ? info.default_layer : "";
  modelHelp.textContent = info ? info.description : "";
  layer.replaceChildren(
    new Option(`Model default${fallback ? ` (${fallback})` : ""}`, ""),
    ...layers.map((item) => new Option(`${item.name} — ${item.channels} channels`, item.name)),
  );
  layer.disabled = false;
  showLayer();
}

/** The model chosen. */
export function modelName() {
  return model.value;
}

/** Choose model `name` (one the server offers) and load its layers; false when there is none such. */
export async function chooseModel(name) {
  if (!name || name === model.value) return true;
  if (!models.some((item) => item.name === name)) return false;
  model.value = name;
  for (const listener of modelListeners) listener();
  await loadLayers(name);
  return true;
}

/** The layer the fields name ({name, channels}): the model's default one when none is chosen. */
export function currentLayer() {
  const info = models.find((item) => item.name === model.value);
  const name = layer.value || (info ? info.default_layer : "");
  return layers.find((item) => item.name === name) || null;
}

/** How many channels layer `name` of the current model has (0: not one of its layers). */
export function layerChannels(name) {
  const found = layers.find((item) => item.name === name);
  return found ? found.channels : 0;
}

/** Whether layer `name` is one of the current model's. */
export function hasLayer(name) {
  return layers.some((item) => item.name === name);
}

/** Choose layer `name` in the fields (the atlas's tiles name it). */
export function chooseLayer(name) {
  layer.value = name;
  showLayer();
}

/** The channels the Channels field names of layer `name` (null: not a channel list). */
export function chosenChannels(name) {
  return parseChannels(channels.value, layerChannels(name));
}

/** Make the Channels field name `list`, on layer `name`. */
export function chooseChannels(name, list) {
  layer.value = name;
  channels.value = formatChannels(list);
  channels.removeAttribute("aria-invalid");
  showLayer();
}

/** The channel hint and the spec under the layer fields; tell the listeners. */
export function showLayer() {
  const current = currentLayer();
  channelsHelp.textContent = current ? `0 to ${current.channels - 1}, or all when empty` : "";
  const spec = buildLayerSpec();
  specShown.textContent = spec.error || spec.spec || "model default";
  specShown.classList.toggle("invalid", Boolean(spec.error));
  for (const listener of layerListeners) listener();
}

/** The layer spec `name[:channels][@x,y][=weight]` of the fields: {spec} or {error, field}. */
export function buildLayerSpec() {
  const text = { channels: compact(channels), neuron: compact(neuron), weight: weight.value.trim() };
  if (!layer.value && !text.channels && !text.neuron && !text.weight) return { spec: "" };
  const current = currentLayer();
  if (!current) return { error: "choose a layer", field: "layer" };
  const problem = specProblem(text);
  if (problem) return problem;
  let spec = current.name;
  if (text.channels) spec += `:${text.channels}`;
  if (text.neuron) spec += `@${text.neuron}`;
  if (text.weight && Number(text.weight) !== 1) spec += `=${Number(text.weight)}`;
  return { spec };
}

function compact(input) {
  return input.value.trim().replace(/\s+/g, "");
}

function specProblem({ channels: list, neuron: at, weight: factor }) {
  if (list && !isChannelList(list)) {
    return { error: "channels: numbers or ranges, e.g. 3,12 or 0-15", field: "channels" };
  }
  if (at && !/^\d+,\d+$/.test(at)) return { error: "neuron: x,y in pixels, e.g. 100,80", field: "neuron" };
  if (at && !/^\d+$/.test(list)) return { error: "a neuron needs exactly one channel, e.g. 12", field: "channels" };
  if (factor && !Number.isFinite(Number(factor))) return { error: "weight: a number", field: "weight" };
  return null;
}

/** The specs to send: the fields' and the further ones; {specs} or {error, field}. */
export function layerSpecs() {
  const spec = buildLayerSpec();
  if (spec.error) return spec;
  return { specs: [spec.spec, ...extraLayers].filter(Boolean) };
}

/** Put a job's layer specs into the fields (the first) and the chips (the others). */
export function fillLayers(specs) {
  const match = /^([^:=@]+?)(?::([^=@]*))?(?:@([^=]*))?(?:=(.*))?$/.exec((specs[0] || "").trim());
  const name = match ? match[1].trim() : "";
  layer.value = hasLayer(name) ? name : "";
  channels.value = (match && match[2]) || "";
  neuron.value = (match && match[3]) || "";
  weight.value = (match && match[4]) || "";
  extraLayers = specs.slice(1);
  renderExtraLayers();
  showLayer();
  return !name || hasLayer(name);
}

function renderExtraLayers() {
  extraChips.replaceChildren(...extraLayers.map((spec) => chip(`+ ${spec}`, `Remove layer ${spec}`, () => {
    extraLayers = extraLayers.filter((item) => item !== spec);
    renderExtraLayers();
  })));
}

/** Keep the spec shown up to date as the fields change; `onError(error)` when layers cannot be loaded. */
export function wireLayers({ onError }) {
  model.addEventListener("change", async () => {
    for (const listener of modelListeners) listener();
    try {
      await loadLayers(model.value);
    } catch (error) {
      onError(error);
    }
  });
  for (const input of [layer, channels, neuron, weight]) {
    input.addEventListener("input", showLayer);
    input.addEventListener("change", showLayer);
  }
}
