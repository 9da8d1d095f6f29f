// The input: a photo (or, for a video job, a video) chosen or dropped, shown with the mask over
// it; and the optional guide image.

import { byId } from "./dom.js";
import { clearMask, sizeMask } from "./mask.js";
import { setStatus } from "./status.js";

const fileInput = byId("file");
const fileLabel = byId("file-label");
const fileName = byId("file-name");
const clearButton = byId("photo-clear");
const dropzone = byId("dropzone");
const panel = byId("photo-panel");
const wrap = byId("canvas-wrap");
const image = byId("photo");
const video = byId("photo-video");
const placeholder = byId("photo-placeholder");
const guideInput = byId("guide");
const guideClear = byId("guide-clear");

let current = null; // {blob, name, url}, or null
let guide = null; // the guide image (a File), or null
let wantVideo = false; // a video job takes a video, the others a photo
const changeListeners = [];

/** Call `listener()` whenever the input changes. */
export function onPhotoChange(listener) {
  changeListeners.push(listener);
}

/** The input: {blob, name}, or null. */
export function currentPhoto() {
  return current && { blob: current.blob, name: current.name };
}

/** Whether the input is a still image (one the mask and the atlas ranking can use). */
export function hasStill() {
  return Boolean(current) && !current.blob.type.startsWith("video/");
}

/** The guide image (a File), or null. */
export function guideImage() {
  return guide;
}

/** Ask for a video (a video job) or a photo; an input of the other sort is dropped. */
export function wantVideoInput(video) {
  wantVideo = video;
  fileInput.accept = video ? "video/*" : "image/*";
  fileLabel.textContent = video ? "Drop a video here or choose one" : "Drop a photo here or choose one";
  const wrongSort = current && current.blob.type && current.blob.type.startsWith("video/") !== video;
  if (wrongSort) setPhoto(null);
  return Boolean(wrongSort);
}

/** Make `blob` the input (null: none): show it, size the mask to it. */
export function setPhoto(blob, name = "") {
  if (current) URL.revokeObjectURL(current.url);
  current = blob ? { blob, name: name || blob.name || "photo", url: URL.createObjectURL(blob) } : null;
  const isVideo = Boolean(blob) && blob.type.startsWith("video/");
  wrap.hidden = !blob || isVideo;
  video.hidden = !isVideo;
  placeholder.hidden = Boolean(blob);
  clearButton.hidden = !blob;
  fileName.textContent = blob ? `Current ${isVideo ? "video" : "photo"}: ${current.name}` : "No photo chosen.";
  if (!blob || blob !== fileInput.files[0]) fileInput.value = ""; // it no longer names the input
  clearMask();
  showInput(isVideo);
  for (const listener of changeListeners) listener();
}

function showInput(isVideo) {
  image.removeAttribute("src");
  video.removeAttribute("src");
  if (!current) return;
  if (isVideo) {
    video.src = current.url;
    return;
  }
  image.onload = () => {
    sizeMask(image.naturalWidth, image.naturalHeight);
    wrap.style.setProperty("--ratio", `${image.naturalWidth} / ${image.naturalHeight}`);
  };
  image.src = current.url;
}

/** Take a chosen or dropped file as the input, if it is of the sort the job takes. */
function takeFile(file) {
  if (!file) return;
  const wanted = wantVideo ? "video/" : "image/";
  if (file.type && !file.type.startsWith(wanted)) {
    setStatus(`${file.name} is not ${wantVideo ? "a video" : "an image"}: choose ${wantVideo ? "a video" : "an image"} file.`,
      "error");
    return;
  }
  setPhoto(file, file.name);
  setStatus(`Ready: ${file.name}.`);
}

function wireDrop(zone) {
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

function setGuide(file) {
  guide = file || null;
  guideClear.hidden = !guide;
  if (!guide) guideInput.value = "";
}

/** Focus the file input (the page asks for a photo). */
export function focusFileInput() {
  fileInput.focus();
}

export function wirePhoto() {
  fileInput.addEventListener("change", () => takeFile(fileInput.files[0]));
  for (const zone of [dropzone, panel]) wireDrop(zone);
  clearButton.addEventListener("click", () => {
    setPhoto(null);
    fileInput.focus();
  });
  guideInput.addEventListener("change", () => setGuide(guideInput.files[0]));
  guideClear.addEventListener("click", () => {
    setGuide(null);
    guideInput.focus();
  });
}
