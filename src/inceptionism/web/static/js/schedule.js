// The schedule: the preset and one slider for each dream option that has a typical range
// (octaves, steps...), built from /api/options. A slider shows its value and its default; one
// never moved is not sent, so the preset (or the library's default) decides.

import { api } from "./api.js";
import { byId, make } from "./dom.js";
import { applyBounds, asOptionValue, defaultText, defaultValue, optionsOf } from "./options.js";

const presetSelect = byId("preset");
const presetHelp = byId("preset-help");
const box = byId("sliders");

const PRESET_HELP = presetHelp.textContent;
let presets = {}; // name -> {name, description, options}
const sliders = new Map(); // option name -> {option, input, output, reset}

/** Fill the preset list from /api/presets. */
export async function loadPresets() {
  const list = await api("/api/presets");
  presets = Object.fromEntries(list.map((preset) => [preset.name, preset]));
  presetSelect.replaceChildren(
    new Option("None", ""),
    ...list.map((preset) => new Option(`${preset.name}: ${preset.description}`, preset.name)),
  );
}

/** The name of the preset chosen ("" for none). */
export function presetName() {
  return presetSelect.value;
}

/** The options of the preset chosen ({} for none). */
export function presetOptions() {
  const preset = presets[presetSelect.value];
  return (preset && preset.options) || {};
}

/** One slider for each dream option with a typical range, in the server's order. */
export function buildSliders() {
  sliders.clear();
  box.replaceChildren(...optionsOf("dream").filter((option) => option.typical).map(sliderRow));
  for (const name of sliders.keys()) resetSlider(name);
}

/** A slider's row: label, value, default and reset; the range; the option's help. */
function sliderRow(option) {
  const id = option.name.replace(/_/g, "-");
  const input = make("input", { type: "range", id, attrs: { "aria-describedby": `${id}-help` } });
  applyBounds(input, option);
  const output = make("output", { id: `${id}-value`, className: "num", htmlFor: id });
  const shown = make("span", { id: `${id}-default`, className: "default", textContent: `(${defaultWords(option)})` });
  const reset = make("button", {
    type: "button", className: "reset", textContent: "↺", title: "Back to the default",
    attrs: { "aria-label": `Reset ${humanName(option)} to the default` },
  });
  const help = make("span", { id: `${id}-help`, className: "hint", textContent: option.help });
  sliders.set(option.name, { option, input, output, reset });
  input.addEventListener("input", () => moved(option.name));
  reset.addEventListener("click", () => resetSlider(option.name));
  const label = make("label", { htmlFor: id, textContent: humanName(option) });
  return make("div", { className: "slider", dataset: { option: option.name } },
    label, make("span", { className: "value" }, output, " ", shown), reset, input, help);
}

/** "default 4"; words in brackets join with a comma: "default 10, Fourier noise: 256". */
function defaultWords(option) {
  return `default ${defaultText(option).replace(/\s*\((.*)\)$/, ", $1")}`;
}

/** "octave_scale" as a label: "Octave scale", with its unit: "Jitter (px)". */
function humanName(option) {
  const words = option.name.replace(/_/g, " ");
  const name = words.charAt(0).toUpperCase() + words.slice(1);
  return option.unit ? `${name} (${option.unit})` : name;
}

/** What an untouched slider stands for: the preset's value, else the default (null: none known). */
function baseline(name) {
  const value = presetOptions()[name];
  return value != null ? value : defaultValue(sliders.get(name).option);
}

function moved(name) {
  sliders.get(name).input.dataset.touched = "1";
  showSlider(name);
}

/** Forget that a slider was moved: it shows the preset's or the default value and is not sent. */
function resetSlider(name) {
  const { input } = sliders.get(name);
  delete input.dataset.touched;
  const value = baseline(name);
  // No value known ("auto"): the thumb rests mid-range until it is moved.
  input.value = String(value != null ? value : (Number(input.min) + Number(input.max)) / 2);
  showSlider(name);
}

function showSlider(name) {
  const { input, output, reset } = sliders.get(name);
  const touched = input.dataset.touched === "1";
  output.textContent = touched || baseline(name) != null ? input.value : "auto";
  input.setAttribute("aria-valuetext", output.textContent);
  reset.disabled = !touched;
  input.closest(".slider").classList.toggle("touched", touched);
}

/** The sliders that were moved, as params: {name: value}. */
export function sliderParams() {
  const params = {};
  for (const [name, { option, input }] of sliders) {
    if (input.dataset.touched === "1") params[name] = asOptionValue(input.value, option);
  }
  return params;
}

/** The option names the sliders send. */
export function sliderNames() {
  return [...sliders.keys()];
}

/** Set the preset and the sliders from a job's params (a slider they do not name is reset). */
export function fillSchedule(params) {
  presetSelect.value = params.preset && presets[params.preset] ? params.preset : "";
  showPresetHelp();
  for (const [name, { input }] of sliders) {
    if (params[name] == null) {
      resetSlider(name);
    } else {
      input.value = String(params[name]);
      moved(name);
    }
  }
}

/** A new preset: the untouched sliders follow it. */
function presetChanged() {
  for (const [name, { input }] of sliders) if (input.dataset.touched !== "1") resetSlider(name);
  showPresetHelp();
}

function showPresetHelp() {
  const preset = presets[presetSelect.value];
  presetHelp.textContent = preset ? preset.description : PRESET_HELP;
}

export function wireSchedule() {
  presetSelect.addEventListener("change", presetChanged);
}
