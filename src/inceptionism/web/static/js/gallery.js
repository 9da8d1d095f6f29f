// The gallery: every job, newest first, a page at a time (GET /api/jobs), each with its result,
// labels, parameters and what can be done with it. Deleting hides the job at once and offers an
// undo; the DELETE is sent only once the undo's time is up.

import { ApiError, api, errorText } from "./api.js";
import { byId } from "./dom.js";
import { shortId } from "./format.js";
import { isActive } from "./jobstream.js";
import { renderJob } from "./jobcard.js";
import { setStatus } from "./status.js";
import { toast } from "./toast.js";

const list = byId("gallery");
const empty = byId("gallery-empty");
const more = byId("more");

const PER_PAGE = 12;
const REFRESH_MS = 3000;
const UNDO_SECONDS = 5;

let total = 0; // jobs on the server: "More" shows until all are shown
let refreshTimer = null;
const pendingDeletes = new Map(); // job id -> its toast; the DELETE is sent when the toast expires
let actions = { again: () => {}, use: () => {} }; // "Dream again" and "Use these settings", from main.js

/** The actions of the items' buttons that belong to other parts of the page. */
export function setJobActions({ again, use }) {
  actions = { again, use };
}

/** Load page `page` (1: the newest) and show it; page 1 merges into the items shown. Its answer. */
export async function loadGallery(page = 1) {
  const answer = await api(`/api/jobs?page=${page}&per_page=${PER_PAGE}`);
  total = answer.total;
  merge(answer.jobs, { append: page > 1 });
  return answer;
}

/** Fetch the newest page again and merge it (new jobs on top, changed ones in place). */
export async function refreshGallery() {
  try {
    await loadGallery(1);
  } catch (error) {
    setStatus(`Cannot load the gallery: ${errorText(error)}`, "error");
  }
}

function itemOf(id) {
  return [...list.children].find((item) => item.dataset.id === id) || null;
}

/** Show `jobs` (newest first), merged with the items shown: a job not shown yet goes after the one before it. */
function merge(jobs, { append }) {
  let cursor = append ? null : list.firstElementChild;
  for (const job of jobs) {
    const old = itemOf(job.id);
    if (old) {
      const item = pendingDeletes.has(job.id) ? old : updated(old, job);
      if (!append) cursor = item.nextElementSibling;
    } else if (append) {
      list.append(card(job));
    } else {
      list.insertBefore(card(job), cursor);
    }
  }
  updateFooter();
  scheduleRefresh();
}

/** The item of `job`, rendered again if it changed (an older answer never makes a finished job run). */
function updated(old, job) {
  const stale = !isActive(old.dataset.state) && isActive(job.state);
  const same = old.dataset.state === job.state && old.dataset.result === String(job.result)
    && old.dataset.progress === String(job.progress);
  if (stale || same) return old;
  const item = card(job);
  replaceKeepingFocus(old, item);
  return item;
}

/** Replace an item; a button or link of it that had the focus has it again in the new one. */
function replaceKeepingFocus(old, item) {
  const focused = old.contains(document.activeElement) ? document.activeElement.classList[0] : null;
  old.replaceWith(item);
  const again = focused && item.querySelector(`.job-actions .${focused}`);
  if (again) again.focus();
}

/** Insert or replace one job's item; a new one goes on top. */
export function upsertJob(job) {
  if (!job || !job.id || !("kind" in job)) {
    refreshGallery();
    return;
  }
  if (pendingDeletes.has(job.id)) return;
  const old = itemOf(job.id);
  if (old) replaceKeepingFocus(old, card(job));
  else list.prepend(card(job));
  updateFooter();
  scheduleRefresh();
}

function card(job) {
  return renderJob(job, {
    again: () => actions.again(job),
    use: () => actions.use(job),
    remove: () => (isActive(job.state) ? cancelJob(job) : deleteWithUndo(job)),
  });
}

function updateFooter() {
  const shown = [...list.children].filter((item) => !item.hidden).length;
  empty.hidden = shown > 0;
  more.hidden = list.children.length >= total;
}

/** While jobs are queued or running, look at the gallery again now and then. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const active = [...list.children].some((item) => isActive(item.dataset.state));
  if (active) refreshTimer = setTimeout(refreshGallery, REFRESH_MS);
}

/** Cancel a queued or running job of the gallery (POST /api/jobs/{id}/cancel). */
async function cancelJob(job) {
  setStatus(`Cancelling ${job.kind} ${shortId(job.id)}…`, "busy");
  try {
    upsertJob(await api(`/api/jobs/${job.id}/cancel`, { method: "POST" }));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) setStatus(`Cancel: ${errorText(error)}`, "error");
    refreshGallery(); // 409: it had ended already, and is shown as it ended
  }
}

/** Hide the job and offer an undo; the DELETE goes when the undo's time is up. */
function deleteWithUndo(job) {
  const item = itemOf(job.id);
  if (!item || pendingDeletes.has(job.id)) return;
  focusNeighbour(item);
  item.hidden = true;
  updateFooter();
  const name = `${job.kind} ${shortId(job.id)}`;
  pendingDeletes.set(job.id, toast(`Deleted ${name}.`, {
    action: "Undo",
    seconds: UNDO_SECONDS,
    onAction: () => undoDelete(job.id, item, name),
    onExpire: () => sendDelete(job.id, item),
  }));
}

/** Keep the keyboard user's place: focus moves to a neighbour's Delete. */
function focusNeighbour(item) {
  const visible = (node) => node && !node.hidden;
  let next = item.nextElementSibling;
  while (next && !visible(next)) next = next.nextElementSibling;
  let previous = item.previousElementSibling;
  while (previous && !visible(previous)) previous = previous.previousElementSibling;
  const target = (next || previous) && (next || previous).querySelector(".delete");
  if (target) target.focus();
}

function undoDelete(id, item, name) {
  pendingDeletes.delete(id);
  item.hidden = false;
  updateFooter();
  item.querySelector(".delete").focus();
  setStatus(`${name} is back.`, "ok");
}

async function sendDelete(id, item) {
  pendingDeletes.delete(id);
  try {
    await api(`/api/jobs/${id}`, { method: "DELETE", keepalive: true }); // it may outlive the page
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      item.hidden = false;
      updateFooter();
      setStatus(`Delete: ${errorText(error)}`, "error");
      return;
    }
  }
  item.remove();
  total = Math.max(0, total - 1);
  updateFooter();
}

export function wireGallery() {
  more.addEventListener("click", async () => {
    try {
      // The page after the items shown: deletions and new jobs since shift the pages, so it is
      // counted from what is shown (items already there are skipped).
      await loadGallery(Math.floor(list.children.length / PER_PAGE) + 1);
    } catch (error) {
      setStatus(`Cannot load more: ${errorText(error)}`, "error");
    }
  });
  // Leaving the page ends the undo's time: the deletions still waiting are sent now.
  window.addEventListener("pagehide", () => {
    for (const handle of [...pendingDeletes.values()]) handle.expire();
  });
}
