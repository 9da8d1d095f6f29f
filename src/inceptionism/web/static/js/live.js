// The Live panel: Start opens the source and a live session, sends the source's frames at a
// steady rate and draws each dream as it comes back (newest only); Snapshot and Record keep
// what is dreamed in the gallery. Stop, another kind of job, or leaving the page ends it.

import { api } from "./api.js";
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
const KEPT_POLL_MS = 1000; // a recording cut short by a lost connection is looked for this often,
const KEPT_POLL_TRIES = 30; // this many times at most
const BUSY = 1013; // the server's close code "try again later" (another session is still running)
const CLOSING_MS = 10_000; // a session the page closed this recently may still be held by the server
const RETRIES = 2; // a refusal then is answered by connecting again, RETRY_MS later, then twice that
const RETRY_MS = 1000;

let live = null; // the session: {socket, timer, lastId, drawn, encoding, recording, stopping, error, farewell, ...}
let closedAt = -Infinity; // when the page last closed a session (performance.now())

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
  live = { lastId: 0, drawn: 0, recording: false, stopping: false, running: false, retries: 0, error: "", farewell: "" };
  connect(live);
}

function connect(session) {
  session.socket = openLive({
    onMessage: (message) => onMessage(session, message),
    onDream: (line, blob) => showDream(session, line, blob),
    onClose: (closed) => socketClosed(session, closed),
  });
}

/** The socket closed: a refusal while the page's last session is still closing is tried again. */
function socketClosed(session, closed) {
  if (!retrying(session, closed)) {
    ended(session, closed);
    return;
  }
  session.retries += 1;
  session.error = "";
  setStatus("Connecting to the studio (the last session is still closing)…", "busy");
  setTimeout(() => (session.stopping ? ended(session, closed) : connect(session)), RETRY_MS * session.retries);
}

function retrying(session, { code }) {
  return session === live && !session.running && !session.stopping && code === BUSY && session.retries < RETRIES
    && performance.now() - closedAt < CLOSING_MS;
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
  if (session.stopping) { // Stop was pressed while it connected
    session.socket.close();
    return;
  }
  session.running = true;
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
  let blob = null;
  try {
    blob = await grabFrame();
  } catch (error) {
    if (!session.grabFailed) setStatus(`Cannot read a frame of the source: ${error.message || error}`, "error");
    session.grabFailed = true;
  } finally {
    session.encoding = false;
  }
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

/** A recording started, or ended without being kept (`detail` says why). */
function showRecording(session, message) {
  setRecording(session, Boolean(message.on));
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

/**
 * The server's error, in one line (a frame's names the frame). A refusal before the session is
 * ready is said when the socket closes (unless it is tried again); one during Stop ends the wait.
 */
function showError(session, message) {
  session.error = oneLine(message.detail || "the studio refused");
  if (!session.running) return;
  setStatus(message.id == null ? session.error : `Frame ${message.id}: ${session.error}`, "error");
  if (session.stopping && message.id == null) session.socket.close();
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

/** The session is over: stop sending, free the source, say why it ended. */
function ended(session, closed) {
  clearInterval(session.timer);
  if (session !== live) return;
  live = null;
  if (session.stopping) closedAt = performance.now();
  const recording = session.recording;
  stopFollowing();
  closeSource();
  stopMeter();
  showSettings(null);
  setState("idle");
  setRecording(session, false);
  if (session.stopping) setStatus(`Stopped: the live session is closed.${session.farewell}`, "ok");
  else setStatus(`Live ended: ${whyEnded(session, closed)}`, "error");
  // A recording cut short is kept by the server once the session's thread has ended.
  if (recording) awaitRecording(shownJobIds());
}

/** Why the socket closed, in one line; a handshake refused (401, 403, 400) reads as 1006 before it opened. */
function whyEnded(session, { code, reason, opened }) {
  if (session.error || reason) return session.error || reason;
  if (code === 1006 && !opened) {
    return "the studio refused the connection (or is not running). Open the studio at the URL it printed, "
      + "with its token, at this machine's address.";
  }
  return `the connection to the studio closed (code ${code})`;
}

function shownJobIds() {
  return new Set([...document.querySelectorAll("#gallery .job")].map((item) => item.dataset.id));
}

/** Ask for the jobs every second until a recording not shown yet is kept, then show it in the gallery. */
function awaitRecording(known, tries = KEPT_POLL_TRIES) {
  setTimeout(async () => {
    if (await recordingKept(known)) refreshGallery();
    else if (tries > 1) awaitRecording(known, tries - 1);
  }, KEPT_POLL_MS);
}

async function recordingKept(known) {
  try {
    const { jobs } = await api("/api/jobs?page=1");
    return jobs.some((job) => job.kind === "live" && job.media_type === "video/mp4" && !known.has(job.id));
  } catch {
    return false; // asked again a second later
  }
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
