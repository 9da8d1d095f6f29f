// The mask: round strokes painted over the photo on a canvas of the photo's size. Painted
// areas dream, the rest stays as it is; no paint at all means the whole photo dreams.

import { byId } from "./dom.js";

const canvas = byId("mask");
const tools = byId("brush-tools");
const brush = byId("brush");
const mode = byId("brush-mode");
const size = byId("brush-size");
const clearButton = byId("mask-clear");

const STROKE = "#ff3cac";
const stroke = { painting: false, last: null }; // the stroke under way
let painted = false; // whether anything was painted since the mask was cleared

/** Give the mask the photo's size (in pixels), cleared. */
export function sizeMask(width, height) {
  canvas.width = width;
  canvas.height = height;
  clearMask();
}

export function clearMask() {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  painted = false;
}

/** The brush can be used only on a photo (not a video, not noise). */
export function setBrushUsable(usable) {
  tools.classList.toggle("disabled", !usable);
  for (const control of tools.querySelectorAll("input, select, button")) control.disabled = !usable;
  if (!usable) brush.checked = false;
  canvas.classList.toggle("active", brush.checked);
}

/** A pointer event on the canvas: start, continue or end a stroke (paint or erase). */
function paint(event) {
  if (!brush.checked) return;
  const rect = canvas.getBoundingClientRect();
  if (!rect.width || !rect.height) return;
  const scale = canvas.width / rect.width;
  const point = { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale };
  if (event.type === "pointerdown") {
    canvas.setPointerCapture(event.pointerId);
    stroke.painting = true;
    stroke.last = point;
  } else if (event.type !== "pointermove" || !stroke.painting) {
    stroke.painting = false;
    return;
  }
  event.preventDefault();
  drawSegment(stroke.last, point, Number(size.value) * scale);
  stroke.last = point;
  painted = true;
}

function drawSegment(from, to, width) {
  const ctx = canvas.getContext("2d");
  ctx.globalCompositeOperation = mode.value === "erase" ? "destination-out" : "source-over";
  ctx.strokeStyle = STROKE;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x + 0.01, to.y); // a click without a move still leaves a dot
  ctx.stroke();
}

/** Whether any painted pixel is left (everything painted may have been erased again). */
function anyPaint() {
  const alpha = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < alpha.length; i += 4) if (alpha[i]) return true;
  return false;
}

/** The mask as a PNG of the photo's size, white where painted, black elsewhere; null if unpainted. */
export async function maskBlob() {
  if (!painted || !canvas.width || !canvas.height || !anyPaint()) return null;
  const white = blankCanvas();
  const w = white.getContext("2d");
  w.drawImage(canvas, 0, 0);
  w.globalCompositeOperation = "source-in"; // keep the strokes' coverage, make them white
  w.fillStyle = "#fff";
  w.fillRect(0, 0, white.width, white.height);
  const out = blankCanvas();
  const o = out.getContext("2d");
  o.fillStyle = "#000";
  o.fillRect(0, 0, out.width, out.height);
  o.drawImage(white, 0, 0);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

function blankCanvas() {
  const copy = document.createElement("canvas");
  copy.width = canvas.width;
  copy.height = canvas.height;
  return copy;
}

export function wireMask() {
  for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel"]) {
    canvas.addEventListener(type, paint);
  }
  brush.addEventListener("change", () => canvas.classList.toggle("active", brush.checked));
  clearButton.addEventListener("click", clearMask);
}
