// The Live panel: Start opens the source and a live session, sends the source's frames at a
// steady rate and draws each dream as it comes back (newest only); Snapshot and Record keep
// what is dreamed in the gallery. Stop, another kind of job, or leaving the page ends it.

import { byId } from "./dom.js";
import { onKindChange } from "./form.js";
import { shortId } from "./format.js";
import { refreshGallery } from "./gallery.js";
import { frameDreamed, frameSent, resetMeter, stopMeter } from "./livemeter.js";
import { followSettings, stopFollowing, wireLiveSettings } from "./livesettings.js";
import { openLive } from "./livesocket.js";
import { SourceError, closeSource, grabFrame, openSource, sourceReady, wireSource } from "./livesource.js";
import { checkedParams } from "./run.js";
import { setStatus } from "./status.js";

const panel = byId("live-panel");
const startButton = byId("live-start");
const snapshotButton = byId("live-snapshot");
const recordButton = byId("live-record");
const view = byId("live-view");
const canvas = byId("live-canvas");
const placeholder = byId("live-placeholder");
const settingsShown = byId("live-settings");
const sourceInputs = [byId("live-source"), byId("live-file")];

const FRAME_MS = 1000 / 15; // frames are sent at this pace; the server dreams the newest it has
const SAVE_WAIT_MS = 15_000; // Stop during a recording waits this long at most for it to be kept
const KEPT_AFTER_CLOSE_MS = 2000; // a recording cut short by a lost connection is in the gallery by then

let live = null; // the session: {socket, timer, lastId, drawn, encoding, recording, stopping, error, farewell}

/** Open the source, then the session; the form is checked first (a problem is shown). */
async function start() {
  if (!checkedParams() || !(await startSource())) return;
  if (panel.hidden) { // another kind was chosen meanwhile
    closeSource();
    setState("idle");
    return;
  }
  setState("connecting");
  setStatus("Connecting to the studio…", "busy");
  const session = { lastId: 0, drawn: 0, recording: false, stopping: false, error: "", farewell: "" };
  session.socket = openLive({
    onMessage: (message) => onMessage(session, message),
    onDream: (line, blob) => showDream(session, line, blob),
    onClose: (closed) => ended(session, closed),
  });
  live = session;
}

/** Open the source (the camera asks for permission): whether it plays; a failure is said. */
async function startSource() {
  setState("opening");
  setStatus("Opening the source…", "busy");
  try {
    await openSource();
    return true;
  } catch (error) {
    closeSource();
    setState("idle");
    setStatus(error instanceof SourceError ? error.message : `Cannot play the source: ${error.message || error}`,
      "error");
    return false;
  }
}

/** The server's messages, but the dreams. */
function onMessage(session, message) {
  if (session !== live) return;
  if (message.type === "ready") ready(session, message);
  else if (message.type === "settings") settingsTaken(session, message.settings);
  else if (message.type === "recording") showRecording(session, message);
  else if (message.type === "saved") kept(session, message.job);
  else if (message.type === "error") showError(session, message);
}

/** The session is open: the form's settings go first, then the frames. */
function ready(session, message) {
  setState("running");
  showSettings(message.settings);
  resetMeter();
  followSettings(
    (params) => session.socket.send({ type: "settings", params }),
    (problem) => setStatus(`Settings not sent: ${problem.error}`, "error"),
  );
  session.timer = setInterval(() => sendFrame(session), FRAME_MS);
  setStatus("Dreaming live: change the settings on the left as it runs.", "busy");
}

/** Send the source's current frame, unless the last one is still on its way. */
async function sendFrame(session) {
  if (session !== live || session.encoding || session.socket.busy() || !sourceReady()) return;
  session.encoding = true;
  const blob = await grabFrame();
  session.encoding = false;
  if (session !== live || session.stopping || !blob) return;
  session.lastId += 1;
  session.socket.sendFrame(session.lastId, blob);
  frameSent(session.lastId);
}

/** Draw a dream, unless a newer one is drawn already (decoding can finish out of order). */
async function showDream(session, line, blob) {
  if (session !== live || line.id <= session.drawn) return;
  const bitmap = await createImageBitmap(blob);
  if (session !== live || line.id <= session.drawn) {
    bitmap.close();
    return;
  }
  session.drawn = line.id;
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    view.style.setProperty("--ratio", `${bitmap.width} / ${bitmap.height}`);
  }
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  canvas.hidden = false;
  placeholder.hidden = true;
  panel.dataset.dreamedSettings = String(line.settings);
  frameDreamed(line.id);
}

/** New settings were taken; an error said before (refused settings, say) is over. */
function settingsTaken(session, version) {
  showSettings(version);
  if (!session.error) return;
  session.error = "";
  setStatus(`Settings ${version} are in use from the next frame.`, "ok");
}

/** The version of the settings the session has (null: no session). */
function showSettings(version) {
  panel.dataset.settings = version == null ? "" : String(version);
  settingsShown.textContent = `settings ${version == null ? "–" : version}`;
}

function showRecording(session, message) {
  setRecording(session, message.on);
  if (message.on) setStatus(`Recording (at most ${message.max_frames} frames)…`, "busy");
  else if (message.detail) setStatus(`Recording: ${oneLine(message.detail)}`, "error");
  if (!message.on && session.stopping) session.socket.close();
}

function setRecording(session, on) {
  session.recording = on;
  recordButton.textContent = on ? "Stop recording" : "Record";
  recordButton.setAttribute("aria-pressed", String(on));
}

/** A snapshot or a recording was kept: say so, and show it in the gallery. */
function kept(session, job) {
  const recording = job.media_type === "video/mp4";
  if (recording) setRecording(session, false);
  const what = recording ? `a recording of ${job.frames_done} frames` : "a snapshot";
  setStatus(`Kept in the gallery: ${what}, live ${shortId(job.id)}.`, "ok");
  refreshGallery();
  if (recording && session.stopping) {
    session.farewell = ` The recording is kept in the gallery: live ${shortId(job.id)}.`;
    session.socket.close();
  }
}

/** The server's error, in one line (a frame's names the frame). */
function showError(session, message) {
  session.error = oneLine(message.detail || "the studio refused");
  setStatus(message.id == null ? session.error : `Frame ${message.id}: ${session.error}`, "error");
}

function oneLine(text) {
  return String(text).replace(/\s+/g, " ").trim();
}

/**
 * End the session (Stop, another kind); a recording under way is kept first. Its end is shown
 * when the socket closes. `now`: close at once (the page is left; the server keeps the recording).
 */
function stop({ now = false } = {}) {
  if (!live || (live.stopping && !now)) return;
  const session = live;
  session.stopping = true;
  clearInterval(session.timer);
  if (session.recording && !now) {
    session.socket.send({ type: "record", on: false });
    setTimeout(() => session.socket.close(), SAVE_WAIT_MS);
    setStatus("Keeping the recording, then stopping…", "busy");
    return;
  }
  session.socket.close();
  setStatus("Stopping…", "busy");
}

/** The socket closed: stop sending, free the source, say why it ended. */
function ended(session, { code, reason }) {
  clearInterval(session.timer);
  if (session !== live) return;
  live = null;
  const recording = session.recording;
  stopFollowing();
  closeSource();
  stopMeter();
  showSettings(null);
  setState("idle");
  setRecording(session, false);
  if (session.stopping) {
    setStatus(`Stopped: the live session is closed.${session.farewell}`, "ok");
  } else {
    const why = session.error || reason || `the connection to the studio closed (code ${code})`;
    setStatus(`Live ended: ${why}`, "error");
  }
  // A recording cut short is kept by the server once the session's thread has ended.
  if (recording) setTimeout(refreshGallery, KEPT_AFTER_CLOSE_MS);
}

/** "idle", "opening" (the source), "connecting" or "running": what the buttons offer. */
function setState(state) {
  panel.dataset.state = state;
  startButton.textContent = state === "idle" ? "Start" : "Stop";
  startButton.disabled = state === "opening";
  for (const input of sourceInputs) input.disabled = state !== "idle";
  snapshotButton.disabled = recordButton.disabled = state !== "running";
}

function snapshot() {
  if (!live) return;
  live.socket.send({ type: "snapshot" });
  setStatus("Keeping the frame shown…", "busy");
}

function toggleRecording() {
  if (live) live.socket.send({ type: "record", on: !live.recording });
}

export function wireLive() {
  wireSource();
  wireLiveSettings();
  startButton.addEventListener("click", () => (live ? stop() : start()));
  snapshotButton.addEventListener("click", snapshot);
  recordButton.addEventListener("click", toggleRecording);
  onKindChange((kind) => {
    if (kind !== "live") stop();
    else if (!live) setStatus("Live: choose the source, then press Start.");
  });
  window.addEventListener("pagehide", () => stop({ now: true }));
  setState("idle");
}
