// Running a job: Dream sends the form (POST /api/jobs), then the job is followed live (progress
// bar, preview) until it ends and lands in the gallery; Cancel stops it.

import { ApiError, api, errorText, toJson } from "./api.js";
import { byId } from "./dom.js";
import { buildParams, jobKind, startsFromNoise } from "./form.js";
import { percent, shortId } from "./format.js";
import { refreshGallery, upsertJob } from "./gallery.js";
import { isImageResult } from "./jobcard.js";
import { followJob } from "./jobstream.js";
import { maskBlob } from "./mask.js";
import { currentPhoto, guideImage } from "./photo.js";
import { setStatus } from "./status.js";

const form = byId("studio");
const dreamButton = byId("dream");
const cancelButton = byId("cancel");
const progress = byId("progress");
const progressText = byId("progress-text");
const preview = byId("preview");
const previewPlaceholder = byId("preview-placeholder");

let followed = null; // {id, stop} of the job this page follows, or null

/** POST the form as a job, then follow it; a problem in the form is said (and focused) first. */
async function submit(event) {
  event.preventDefault();
  if (followed || jobKind() === "live") return; // a live session starts with its own button
  const params = checkedParams();
  if (!params) return;
  dreamButton.disabled = true;
  setStatus("Sending the job…", "busy");
  try {
    const job = await api("/api/jobs", { method: "POST", body: await jobForm(params) });
    followDream(job.id);
  } catch (error) {
    dreamButton.disabled = false;
    setStatus(`Not started: ${errorText(error)}`, "error");
  }
}

/** The form's params; null when it has a problem, which is said (its field marked and focused). */
export function checkedParams() {
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  const built = buildParams();
  if (!built.error) return built.params;
  showProblem(built);
  return null;
}

function showProblem({ error, field }) {
  setStatus(error, "error");
  const input = field && document.getElementById(field);
  if (!input) return;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

/** The multipart body: kind, params JSON, the photo (or video), the guide and the mask. */
async function jobForm(params) {
  const kind = jobKind();
  const body = new FormData();
  body.append("kind", kind);
  body.append("params", toJson(params));
  const photo = startsFromNoise() ? null : currentPhoto();
  if (photo) body.append("image", photo.blob, photo.name);
  const guide = guideImage();
  if (guide) body.append("guide", guide, guide.name || "guide");
  const mask = photo && kind !== "video" ? await maskBlob() : null;
  if (mask) body.append("mask", mask, "mask.png");
  return body;
}

/** Follow job `id` live: the progress bar, the preview, and the gallery when it ends. */
export function followDream(id) {
  if (followed) followed.stop();
  dreamButton.disabled = true;
  cancelButton.disabled = false;
  showProgress({ state: "queued", progress: 0, frames_done: 0, frames_total: 0 });
  const stop = followJob(id, { onProgress: showProgress, onPreview: showPreview, onEnd: finish });
  followed = { id, stop };
  refreshGallery();
}

function showPreview(url) {
  preview.src = url;
  preview.hidden = false;
  previewPlaceholder.hidden = true;
}

/** The bar and its numbers from a progress event (or a job); the status changes with the state only. */
function showProgress(data) {
  progress.value = data.state === "done" ? 1 : Math.max(0, Math.min(1, Number(data.progress) || 0));
  const frames = data.frames_total > 1
    ? `frame ${Math.min(data.frames_done + 1, data.frames_total)} of ${data.frames_total} · ` : "";
  progressText.textContent = `${frames}${percent(progress.value)}`;
  progress.setAttribute("aria-valuetext", progressText.textContent);
  if (data.state === "queued") setStatus("Waiting in the queue…", "busy");
  else if (data.state === "running") setStatus("Dreaming…", "busy");
}

/** The followed job ended (done, failed, cancelled, or gone): say so, show it in the gallery. */
function finish(job) {
  if (!followed || followed.id !== job.id) return;
  followed.stop();
  followed = null;
  dreamButton.disabled = false;
  cancelButton.disabled = true;
  if (job.state === "gone") {
    setStatus("The job is gone: it was deleted.", "error");
    refreshGallery();
    return;
  }
  showProgress(job);
  setStatus(...endWords(job));
  if (job.state === "done" && isImageResult(job)) showPreview(job.result);
  upsertJob(job);
}

function endWords(job) {
  if (job.state === "done") return [`Done: ${job.kind} ${shortId(job.id)} is in the gallery.`, "ok"];
  if (job.state === "failed") return [`Failed: ${job.error || "the job failed without a reason"}`, "error"];
  return ["Cancelled.", "info"];
}

/** Cancel the followed job; the end of its stream says when it has stopped. */
async function cancel() {
  if (!followed) return;
  const { id } = followed;
  cancelButton.disabled = true;
  setStatus("Cancelling…", "busy");
  try {
    await api(`/api/jobs/${id}/cancel`, { method: "POST" });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      showEnded(id); // it had ended already: it is shown as it ended
      return;
    }
    cancelButton.disabled = false;
    setStatus(`Cannot cancel: ${errorText(error)}`, "error");
  }
}

async function showEnded(id) {
  try {
    finish(await api(`/api/jobs/${id}`));
  } catch {
    // The end of its event stream shows it.
  }
}

export function wireRun() {
  form.addEventListener("submit", submit);
  cancelButton.addEventListener("click", cancel);
}
