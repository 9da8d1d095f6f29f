// The source of a live session: the camera (getUserMedia), or a video file playing in the page
// (looped, muted), shown small in the corner of the Live panel; and its frames, drawn at the
// frame size chosen (cropped to fill it) and encoded as JPEG.

import { byId } from "./dom.js";

const sourceSelect = byId("live-source");
const fileField = byId("live-file-field");
const fileInput = byId("live-file");
const sizeSelect = byId("live-size");
const video = byId("live-video");

const JPEG_QUALITY = 0.8;
const offscreen = document.createElement("canvas");
let stream = null; // the camera's MediaStream while it is open
let fileUrl = null; // the object URL of the chosen video file

/** A source that cannot be opened: `message` says why in one line, and what to do. */
export class SourceError extends Error {}

/**
 * Open the chosen source and play it in the corner preview; a SourceError says why it cannot be.
 */
export async function openSource() {
  closeSource();
  if (sourceSelect.value === "file") await openFile();
  else await openCamera();
  video.hidden = false;
  await video.play();
}

async function openCamera() {
  if (!window.isSecureContext) {
    throw new SourceError("The camera needs a secure page: open the studio at http://localhost or over HTTPS.");
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new SourceError("This browser offers no camera to pages: choose A video file instead.");
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (error) {
    throw new SourceError(cameraRefusal(error));
  }
  video.srcObject = stream;
}

/** Why getUserMedia failed, in words. */
function cameraRefusal(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The camera was refused: allow it for this page in the browser's settings, then press Start again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No camera found: plug one in, or choose A video file as the source.";
  }
  if (name === "NotReadableError") return "The camera is in use by another program: close it, then press Start again.";
  return `Cannot open the camera: ${(error && error.message) || error}`;
}

async function openFile() {
  const file = fileInput.files[0];
  if (!file) throw new SourceError("Choose a video file first.");
  fileUrl = URL.createObjectURL(file);
  video.src = fileUrl;
  try {
    await new Promise((resolve, reject) => {
      video.addEventListener("loadeddata", resolve, { once: true });
      video.addEventListener("error", reject, { once: true });
    });
  } catch {
    throw new SourceError(`${file.name} cannot be played by this browser: choose an MP4 or WebM video.`);
  }
}

/** Stop the camera (its light goes off) or the video, and hide the preview. */
export function closeSource() {
  video.pause();
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  video.srcObject = null;
  video.removeAttribute("src");
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  fileUrl = null;
  video.hidden = true;
}

/** Whether the source has a frame to give. */
export function sourceReady() {
  return !video.hidden && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0;
}

/** The source's current frame at the chosen size, cropped to fill it, as a JPEG Blob. */
export function grabFrame() {
  const [width, height] = sizeSelect.value.split("x").map(Number);
  offscreen.width = width;
  offscreen.height = height;
  const scale = Math.max(width / video.videoWidth, height / video.videoHeight);
  const [cropWidth, cropHeight] = [width / scale, height / scale];
  offscreen.getContext("2d").drawImage(video, (video.videoWidth - cropWidth) / 2, (video.videoHeight - cropHeight) / 2,
    cropWidth, cropHeight, 0, 0, width, height);
  return new Promise((resolve) => offscreen.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
}

/** Show the file input when the source is a video file. */
function sourceChanged() {
  fileField.hidden = sourceSelect.value !== "file";
}

export function wireSource() {
  sourceSelect.addEventListener("change", sourceChanged);
  sourceChanged();
}
