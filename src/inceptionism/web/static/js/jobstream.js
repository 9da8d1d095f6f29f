// Following a job: the one path for a dream, a zoom, a video and an atlas alike.
//
// GET /api/jobs/{id}/events sends Server-Sent Events: "progress" ({state, progress, frames_done,
// frames_total}), "preview" ({image}: a small JPEG data URL) and, once, "done" (the job). When the
// stream is gone for good, the job is asked for every second instead (GET /api/jobs/{id}).

import { ApiError, api, parseJson } from "./api.js";

const ACTIVE = new Set(["queued", "running"]);
const POLL_MS = 1000;

/** Whether a job in `state` may still change (queued or running). */
export function isActive(state) {
  return ACTIVE.has(state);
}

/**
 * Follow job `id` until it ends: `onProgress(data)` on each change of its progress, `onPreview(url)`
 * on each live preview, then `onEnd(job)` once with the ended job (state "gone" when it was deleted).
 * Returns `stop()`: stop following (the job itself goes on on the server).
 */
export function followJob(id, { onProgress, onPreview = () => {}, onEnd }) {
  const follower = new Follower(id, { onProgress, onPreview, onEnd });
  follower.listen();
  return () => follower.stop();
}

class Follower {
  constructor(id, handlers) {
    this.id = id;
    this.handlers = handlers;
    this.events = null;
    this.timer = null;
    this.stopped = false;
  }

  /** Listen to the event stream; EventSource retries by itself, and once it gives up, poll. */
  listen() {
    const events = new EventSource(`/api/jobs/${encodeURIComponent(this.id)}/events`);
    this.events = events;
    events.addEventListener("progress", (event) => this.progress(JSON.parse(event.data)));
    events.addEventListener("preview", (event) => this.handlers.onPreview(JSON.parse(event.data).image));
    events.addEventListener("done", (event) => this.end(parseJson(event.data)));
    events.addEventListener("error", () => {
      if (events.readyState === EventSource.CLOSED) this.poll();
    });
  }

  /** Ask for the job in a second, and again until it ends. */
  poll() {
    if (this.events) this.events.close();
    this.events = null;
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => this.look(), POLL_MS);
  }

  async look() {
    try {
      const job = await api(`/api/jobs/${encodeURIComponent(this.id)}`);
      if (isActive(job.state)) {
        this.progress(job);
        this.poll();
      } else {
        this.end(job);
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.end({ id: this.id, state: "gone" });
      else this.poll();
    }
  }

  progress(data) {
    if (!this.stopped) this.handlers.onProgress(data);
  }

  end(job) {
    if (this.stopped) return;
    this.stop();
    this.handlers.onEnd(job);
  }

  stop() {
    this.stopped = true;
    if (this.events) this.events.close();
    this.events = null;
    clearTimeout(this.timer);
  }
}
