// The options of a dream, a zoom, a video and an atlas, from GET /api/options: each input's
// bounds, step and default come from here, never from the page.

import { api } from "./api.js";

let options = new Map(); // "group.name" (e.g. "dream.steps", "atlas.size") -> the option

/** Fetch the options, then give every input that names one (data-option) its bounds. */
export async function loadOptions() {
  const list = await api("/api/options");
  options = new Map(list.map((option) => [`${option.group}.${option.name}`, option]));
  for (const input of document.querySelectorAll("input[data-option]")) applyBounds(input, option(input.dataset.option));
}

/** The option "group.name", or null. */
export function option(key) {
  return options.get(key) || null;
}

/** The options of `group` ("dream", "zoom", "video" or "atlas"), in the server's order. */
export function optionsOf(group) {
  return [...options.values()].filter((item) => item.group === group);
}

/**
 * An input's min, max and step from its option: a slider spans the option's typical range (the
 * bounds can be far wider than what dreams use), a number field the bounds themselves. Its
 * tooltip is the option's help and bounds; an empty number field shows the default.
 */
export function applyBounds(input, opt) {
  if (!input || !opt || opt.minimum == null) return;
  const [low, high] = input.type === "range" && opt.typical ? opt.typical : [opt.minimum, opt.maximum];
  input.min = String(low);
  input.max = String(high);
  input.step = opt.step == null ? "any" : String(opt.step);
  input.title = opt.bounds ? `${opt.help} (${opt.bounds})` : opt.help;
  if (input.type !== "range" && !input.placeholder && opt.default != null) input.placeholder = String(opt.default);
}

/**
 * The default as people read it: the server's words for it when it gives them (shown_default,
 * e.g. "10 (Fourier noise: 256)"), else the value; "auto" when the run chooses it.
 */
export function defaultText(opt) {
  if (!opt) return "";
  if (opt.shown_default) return String(opt.shown_default);
  return opt.default == null ? "auto" : String(opt.default);
}

/** The default's value: the option's, else the number its words start with (null: none). */
export function defaultValue(opt) {
  if (!opt) return null;
  if (opt.default != null) return opt.default;
  const leading = parseFloat(opt.shown_default);
  return Number.isFinite(leading) ? leading : null;
}

/** `value` as the option takes it: whole for a whole-number option, else to two decimals. */
export function asOptionValue(value, opt) {
  const number = Number(value);
  return opt && opt.step === 1 ? Math.round(number) : Math.round(number * 100) / 100;
}
