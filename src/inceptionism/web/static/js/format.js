// Numbers and names as the page writes them. A number and its unit are joined by a no-break
// space, and the CSS class "num" keeps them on one line.

const NBSP = "\u00a0";

/** A fraction (0..1) as a percentage: "98 %", or "97.7 %" with one digit. */
export function percent(fraction, digits = 0) {
  const value = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
  return `${value.toFixed(digits)}${NBSP}%`;
}

/** The first 8 characters of a job id, as the gallery names jobs. */
export function shortId(id) {
  return String(id || "").slice(0, 8);
}

/** Channels as a layer spec writes them: sorted, without repeats, runs of three or more as ranges. */
export function formatChannels(channels) {
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

/** Whether `text` (without spaces) is a channel list: numbers or ranges, e.g. 3,12 or 0-15. */
export function isChannelList(text) {
  return /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text);
}

/**
 * The channels a channel list names (`3,12` or `0-15`), those under `count` only: a list, or null
 * when the text is not a channel list (the server refuses it when the job is sent).
 */
export function parseChannels(text, count) {
  const compact = String(text || "").replace(/\s+/g, "");
  if (!compact) return [];
  if (!isChannelList(compact)) return null;
  const channels = [];
  for (const part of compact.split(",")) {
    const [first, last = first] = part.split("-").map(Number);
    for (let channel = first; channel <= Math.min(last, count - 1); channel += 1) channels.push(channel);
  }
  return channels;
}

/** An activation with three significant digits ("" when there is none). */
export function formatActivation(value) {
  if (value == null || !Number.isFinite(Number(value))) return "";
  return String(Number(Number(value).toPrecision(3)));
}
