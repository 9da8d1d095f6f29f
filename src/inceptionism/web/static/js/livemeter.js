// How fast a live session goes: dreamed frames per second over the last 2 s, and the latency
// (from a frame sent to its dream received), the median of the recent frames.

import { byId } from "./dom.js";

const fpsShown = byId("live-fps");
const latencyShown = byId("live-latency");

const WINDOW_MS = 2000;
const LATENCIES = 15; // the median is of this many recent frames
const SENT_KEPT = 64; // sent frames remembered while waiting for their dream

const sent = new Map(); // frame id -> when it was sent (performance.now())
let dreamedAt = []; // when each dream of the last WINDOW_MS came
let latencies = []; // ms, of the recent dreams
let timer = null;

/** Start afresh (a new session): nothing sent, nothing dreamed; the readout decays as time passes. */
export function resetMeter() {
  sent.clear();
  dreamedAt = [];
  latencies = [];
  clearInterval(timer);
  timer = setInterval(showMeter, 500);
  showMeter();
}

/** Stop updating the readout (the session ended): zero frames per second, no latency. */
export function stopMeter() {
  clearInterval(timer);
  timer = null;
  dreamedAt = [];
  latencies = [];
  showMeter();
}

/** Frame `id` was sent now. */
export function frameSent(id) {
  sent.set(id, performance.now());
  if (sent.size > SENT_KEPT) sent.delete(sent.keys().next().value);
}

/** The dream of frame `id` came now. */
export function frameDreamed(id) {
  const now = performance.now();
  dreamedAt.push(now);
  if (sent.has(id)) latencies = [...latencies, now - sent.get(id)].slice(-LATENCIES);
  for (const older of sent.keys()) if (older <= id) sent.delete(older);
  showMeter();
}

function showMeter() {
  const now = performance.now();
  dreamedAt = dreamedAt.filter((time) => now - time <= WINDOW_MS);
  fpsShown.textContent = `${(dreamedAt.length / (WINDOW_MS / 1000)).toFixed(1)} frames/s`;
  latencyShown.textContent = latencies.length ? `latency ${Math.round(median(latencies))} ms` : "latency –";
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
