// One job of the gallery: its result (or where it stands), title, labels, label chart,
// parameters, and its buttons (download, dream again, use these settings, delete or cancel). A
// live session's snapshot or recording has no input to dream again: it offers its settings only.

import { toJson } from "./api.js";
import { make } from "./dom.js";
import { formatChannels, percent, shortId } from "./format.js";
import { isActive } from "./jobstream.js";
import { openLightbox } from "./lightbox.js";

const IMAGE_TYPES = new Set(["image/png", "image/gif", "image/webp", "image/jpeg"]);
const EXTENSIONS = { "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4" };

/** The file extension of a result of `mediaType`. */
export function extensionOf(mediaType) {
  return EXTENSIONS[mediaType] || "png";
}

/** Whether a job's result is an image (one that can be dreamed again). */
export function isImageResult(job) {
  return Boolean(job.result) && IMAGE_TYPES.has(job.media_type);
}

/** The item of `job`; `handlers` {again, use, remove} are its buttons' actions. */
export function renderJob(job, handlers) {
  const titleId = `job-${job.id}-title`;
  const info = make("div", { className: "job-info" },
    make("h3", { id: titleId, className: "job-title", textContent: jobTitle(job) }),
    jobMeta(job),
    job.error ? make("p", { className: "job-error", textContent: job.error }) : null,
    job.labels ? renderLabels(job.labels) : null,
    paramsBlock(job),
    jobActions(job, titleId, handlers));
  return make("li", {
    className: job.chart ? "job has-chart" : "job",
    dataset: { id: job.id, state: job.state, result: String(job.result), progress: String(job.progress) },
  }, jobMedia(job, titleId), info, job.chart ? chartButton(job) : null);
}

/** The result (image or video), or a line saying where the job stands. */
function jobMedia(job, titleId) {
  const media = make("div", { className: "job-media" });
  if (job.result && job.media_type === "video/mp4") {
    media.append(make("video", {
      controls: true, preload: "metadata", src: job.result, attrs: { "aria-labelledby": titleId },
    }));
  } else if (job.result) {
    media.append(make("img", { src: job.result, alt: `Result of ${job.kind} ${shortId(job.id)}`, loading: "lazy" }));
  } else {
    media.append(make("p", { className: "placeholder" }, ...placeholderText(job)));
  }
  return media;
}

function placeholderText(job) {
  if (isActive(job.state)) {
    const doing = job.state === "queued" ? "Queued…" : "Dreaming…";
    return [`${doing} `, make("span", { className: "num", textContent: percent(job.progress) })];
  }
  return [{ failed: "Failed", cancelled: "Cancelled" }[job.state] || "No result"];
}

/** "dream 1a2b3c4d · fire5" (an atlas: its layer and channels). */
function jobTitle(job) {
  const params = job.params || {};
  let layers = params.layers || params.classes;
  if (job.kind === "atlas" && params.layer) {
    const channels = Array.isArray(params.channels) ? formatChannels(params.channels) : "";
    layers = [`${params.layer}${channels ? `:${channels}` : ""}`];
  }
  const named = Array.isArray(layers) ? layers : layers ? [layers] : [];
  return `${job.kind} ${shortId(job.id)}${named.length ? ` · ${named.join(" + ")}` : ""}`;
}

function jobMeta(job) {
  const created = job.created ? new Date(job.created) : null;
  const when = created && !Number.isNaN(created.getTime()) ? ` ${created.toLocaleString()}` : "";
  return make("p", { className: "job-meta" }, make("span", { className: `badge ${job.state}`, textContent: job.state }), when);
}

/** The top labels before and after, as two short lists, each probability on one line. */
function renderLabels(labels) {
  const block = make("div", { className: "labels" });
  for (const [key, heading] of [["before", "Before"], ["after", "After"]]) {
    if (!Array.isArray(labels[key])) continue;
    const items = labels[key].map(({ label, probability }) => make("li", {},
      make("span", { className: "label-name", textContent: label }), " ",
      make("span", { className: "probability num", textContent: percent(probability, 1) })));
    block.append(make("div", {}, make("h4", { textContent: heading }), make("ol", {}, ...items)));
  }
  return block;
}

/** A zoom's label chart, as a button that shows it enlarged. */
function chartButton(job) {
  const text = `Top labels along zoom ${shortId(job.id)}`;
  const image = make("img", { className: "chart", src: job.chart, alt: text, loading: "lazy" });
  return make("button", {
    type: "button", className: "chart-open", title: "Enlarge the chart",
    attrs: { "aria-label": `${text}: enlarge` }, on: { click: () => openLightbox(job.chart, text) },
  }, image);
}

function paramsBlock(job) {
  return make("details", { className: "params" },
    make("summary", { textContent: "Parameters" }),
    make("pre", { textContent: toJson(job.params || {}, 2) }));
}

function jobActions(job, titleId, { again, use, remove }) {
  const actions = make("div", { className: "job-actions" });
  if (job.result) {
    actions.append(make("a", {
      className: "download button", href: job.result, textContent: "Download",
      download: `inceptionism-${job.kind}-${shortId(job.id)}.${extensionOf(job.media_type)}`,
      attrs: { "aria-describedby": titleId },
    }));
  }
  if (isImageResult(job) && job.kind !== "live") {
    actions.append(jobButton("again", "Dream again on this result", titleId, again));
  }
  actions.append(jobButton("use", "Use these settings", titleId, use));
  actions.append(jobButton("delete", isActive(job.state) ? "Cancel" : "Delete", titleId, remove));
  return actions;
}

function jobButton(className, text, titleId, onClick) {
  return make("button", {
    type: "button", className, textContent: text, attrs: { "aria-describedby": titleId }, on: { click: onClick },
  });
}
