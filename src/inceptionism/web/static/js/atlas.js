// The atlas panel: for each channel of a layer, the image it likes best. Show atlas draws the
// missing tiles (POST /api/atlas: 200 when all are drawn, else 202 and the job drawing them,
// followed like a dream); GET /api/atlas only looks. Pressing tiles chooses the channels to
// dream; "What it sees in your photo" orders them by the photo's activations.

import { api, errorText, postJson } from "./api.js";
import { byId, say } from "./dom.js";
import { formatChannels, percent } from "./format.js";
import { refreshGallery } from "./gallery.js";
import { followJob } from "./jobstream.js";
import {
  chooseChannels, chooseLayer, chooseModel, chosenChannels, currentLayer, hasLayer, modelName,
} from "./layers.js";
import { option } from "./options.js";
import { currentPhoto, hasStill } from "./photo.js";
import { pressTiles, renderTiles } from "./tiles.js";

const panel = byId("atlas-panel");
const layerSelect = byId("layer");
const grid = byId("atlas");
const help = byId("atlas-help");
const status = byId("atlas-status");
const channelsInput = byId("atlas-channels");
const sizeInput = byId("atlas-size");
const stepsInput = byId("atlas-steps");
const showButton = byId("atlas-show");
const rankButton = byId("atlas-rank");
const rankHelp = byId("atlas-rank-help");
const progressRow = byId("atlas-progress-row");
const progress = byId("atlas-progress");
const progressText = byId("atlas-progress-text");

const MAX_ROUNDS = 3; // jobs followed for one atlas before the page gives up on missing tiles
let atlas = null; // the atlas shown: {model, layer, ask, order, tiles, ranking, rounds, framesDone}
let stopFollowing = null; // stops following the job drawing it
let ticket = 0; // each showing (or model change) takes a new one; answers for an older one are dropped
let ranking = false; // whether the photo's ranking is being asked for

/** The atlas the fields ask for: {ask} (the POST body) or {error, field}. */
function atlasAsk() {
  const layer = currentLayer();
  if (!layer) return { error: "choose a model and a layer first", field: layerSelect };
  const size = wholeNumber(sizeInput, "atlas.size");
  const steps = wholeNumber(stepsInput, "atlas.steps");
  if (size === null) return { error: "Tile px: a whole number", field: sizeInput };
  if (steps === null) return { error: "Steps: a whole number", field: stepsInput };
  const channels = channelsInput.value.replace(/\s+/g, "") || null;
  return { ask: { layer: layer.name, model: modelName() || null, channels, size, steps } };
}

/** A field's whole number, its option's default when empty; null when it is not one (the server checks bounds). */
function wholeNumber(input, key) {
  const text = input.value.trim();
  if (text === "") return option(key).default;
  return /^-?\d+$/.test(text) ? Number(text) : null;
}

function lookQuery(ask) {
  const query = new URLSearchParams({ layer: ask.layer, size: ask.size, steps: ask.steps });
  if (ask.model) query.set("model", ask.model);
  if (ask.channels) query.set("channels", ask.channels);
  return query.toString();
}

/** Show the atlas the fields ask for: drawing its missing tiles (`draw`), or only looking. */
export async function showAtlas({ draw = true } = {}) {
  for (const input of [channelsInput, sizeInput, stepsInput, layerSelect]) input.removeAttribute("aria-invalid");
  const request = atlasAsk();
  if (request.error) {
    say(status, `Atlas: ${request.error}.`, "error");
    request.field.setAttribute("aria-invalid", "true");
    request.field.focus();
    return;
  }
  stopJob();
  const mine = ++ticket;
  const { ask } = request;
  atlas = { model: ask.model, layer: ask.layer, ask, order: [], tiles: new Map(), ranking: null, rounds: 0, framesDone: -1 };
  grid.replaceChildren();
  grid.setAttribute("aria-label", `Channels of ${ask.layer}: press a tile to dream its channel`);
  grid.removeAttribute("aria-labelledby");
  say(status, `Asking for the tiles of ${ask.layer}…`, "busy");
  syncAtlas();
  try {
    take(mine, draw ? await postJson("/api/atlas", ask) : await api(`/api/atlas?${lookQuery(ask)}`));
  } catch (error) {
    if (mine === ticket) failed(error);
  }
}

function failed(error) {
  stopJob();
  say(status, `Atlas: ${errorText(error)}`, "error");
  updateRankButton();
}

/** An answer of /api/atlas: show its tiles; follow the job drawing the others, or say where it stands. */
function take(mine, answer) {
  if (mine !== ticket) return;
  setTiles(answer.tiles);
  if (answer.state === "queued" || answer.state === "running") {
    if (answer.job !== atlas.job) follow(mine, answer.job, answer.state);
    return;
  }
  stopJob();
  const drawn = answer.tiles.filter((tile) => tile.url).length;
  if (answer.state === "done") {
    const before = atlas.rounds === 0 ? " (drawn before)" : "";
    say(status, `${drawn} tile${drawn === 1 ? "" : "s"} of ${atlas.layer}${before}: press tiles to choose channels.`, "ok");
  } else {
    const missing = answer.tiles.length - drawn;
    say(status, `${missing} of ${answer.tiles.length} tiles are not drawn: Show atlas draws them.`, "info");
  }
}

function setTiles(tiles) {
  atlas.order = tiles.map((tile) => tile.channel);
  for (const tile of tiles) atlas.tiles.set(tile.channel, tile);
  renderTiles(grid, atlas, toggleChannel);
  syncAtlas();
  updateRankButton();
}

/** Follow the job drawing the atlas: its progress on the bar, the tiles as batches finish. */
function follow(mine, id, state) {
  stopJob();
  atlas.job = id;
  atlas.rounds += 1;
  progressRow.hidden = false;
  showProgress({ state, progress: 0, frames_done: 0 });
  stopFollowing = followJob(id, {
    onProgress: (data) => progressed(mine, data),
    onEnd: (job) => ended(mine, job),
  });
  refreshGallery();
}

function progressed(mine, data) {
  if (mine !== ticket) return;
  showProgress(data);
  // A batch of tiles finished: fetch their URLs so they show before the whole atlas is done.
  if (data.state === "running" && data.frames_done > atlas.framesDone && data.frames_done < data.frames_total) {
    atlas.framesDone = data.frames_done;
    lookAtTiles(mine);
  }
}

/** GET /api/atlas (a look, it starts nothing) for the tiles drawn so far. */
async function lookAtTiles(mine) {
  try {
    const answer = await api(`/api/atlas?${lookQuery(atlas.ask)}`);
    if (mine === ticket) setTiles(answer.tiles);
  } catch {
    // The job's end looks again.
  }
}

/** The drawing job ended: done looks at the tiles; failed or cancelled says so. */
async function ended(mine, job) {
  if (mine !== ticket) return;
  stopJob({ keepJob: true });
  refreshGallery();
  if (job.state === "failed") {
    say(status, `Atlas failed: ${job.error || "the job failed without a reason"}`, "error");
  } else if (job.state !== "done") {
    say(status, "The atlas job was cancelled: Show atlas draws the missing tiles.", "info");
  } else if (atlas.rounds >= MAX_ROUNDS) {
    say(status, "Atlas: the tiles were drawn but cannot be found in the tile cache.", "error");
  } else {
    try {
      take(mine, await api(`/api/atlas?${lookQuery(atlas.ask)}`));
    } catch (error) {
      if (mine === ticket) failed(error);
    }
  }
}

/** Stop following the atlas job (its drawing goes on on the server) and hide the bar. */
function stopJob({ keepJob = false } = {}) {
  progressRow.hidden = true;
  if (stopFollowing) stopFollowing();
  stopFollowing = null;
  if (atlas && !keepJob) atlas.job = null;
}

function showProgress(data) {
  progress.value = data.state === "done" ? 1 : Math.max(0, Math.min(1, Number(data.progress) || 0));
  // Tiles are the atlas job's frames; a job still queued says 0 of 1, so count the tiles shown.
  const total = atlas.order.length || data.frames_total || 0;
  const drawn = [...atlas.tiles.values()].filter((tile) => tile.url).length;
  const done = Math.min(Math.max(data.state === "running" ? data.frames_done || 0 : 0, drawn), total);
  progressText.textContent = `${done} of ${total} tiles · ${percent(progress.value)}`;
  progress.setAttribute("aria-valuetext", progressText.textContent);
  if (data.state === "queued") say(status, `Waiting in the queue to draw ${atlas.layer}…`, "busy");
  else if (data.state === "running") say(status, `Drawing the tiles of ${atlas.layer}…`, "busy");
}

/** Forget the atlas shown (another model was chosen: its tiles are of the other one). */
export function clearAtlas() {
  stopJob();
  ticket += 1;
  atlas = null;
  grid.replaceChildren();
  say(status, "");
  updateRankButton();
}

/** A tile was pressed: add its channel to the Channels field, or take it out. */
function toggleChannel(channel) {
  if (!atlas) return;
  const current = currentLayer();
  // The fields name another layer: the tiles' layer replaces it, with no channels yet.
  const chosen = current && current.name === atlas.layer ? chosenChannels(atlas.layer) || [] : [];
  const set = new Set(chosen);
  if (set.has(channel)) set.delete(channel);
  else set.add(channel);
  chooseChannels(atlas.layer, [...set]);
}

/** The tiles are pressed when the layer spec dreams their channels; the help names the layers. */
export function syncAtlas() {
  const layer = currentLayer();
  const same = atlas && layer && layer.name === atlas.layer && modelName() === atlas.model;
  pressTiles(grid, new Set(same ? chosenChannels(atlas.layer) || [] : []));
  if (atlas && layer && atlas.layer !== layer.name) {
    help.textContent = `These tiles are of ${atlas.layer}; Show atlas draws those of ${layer.name}.`;
  } else if (layer) {
    help.textContent = `What each of the ${layer.channels} channels of ${layer.name} likes best. Press tiles to dream those channels.`;
  }
}

function updateRankButton() {
  const usable = hasStill();
  const tiles = Boolean(atlas && atlas.order.length);
  rankButton.disabled = !usable || !tiles || ranking;
  if (!usable) rankHelp.textContent = "Choose a photo to see which channels it excites most.";
  else if (!tiles) rankHelp.textContent = "Show an atlas first; then its tiles are ordered by how strongly your photo excites them.";
  else rankHelp.textContent = "Orders the tiles by how strongly your photo excites each channel.";
}

/** "What it sees in your photo": POST the photo, order the tiles by its ranking, show the activations. */
async function rankAtlas() {
  if (!atlas || !hasStill() || ranking) return;
  const mine = ticket;
  const body = new FormData();
  body.append("layer", atlas.layer);
  if (atlas.model) body.append("model", atlas.model);
  const photo = currentPhoto();
  body.append("image", photo.blob, photo.name);
  ranking = true;
  updateRankButton();
  say(status, "Looking at your photo…", "busy");
  try {
    const answer = await api("/api/atlas/ranking", { method: "POST", body });
    if (mine === ticket) showRanking(answer);
  } catch (error) {
    if (mine === ticket) say(status, `Ranking: ${errorText(error)}`, "error");
  } finally {
    ranking = false;
    updateRankButton();
  }
}

function showRanking(answer) {
  atlas.ranking = new Map(answer.map((item) => [item.channel, item.activation]));
  renderTiles(grid, atlas, toggleChannel);
  syncAtlas();
  const shown = new Set(atlas.order);
  const top = answer.filter((item) => shown.has(item.channel)).slice(0, 3).map((item) => item.channel);
  const best = answer.slice(0, 5).map((item) => item.channel);
  say(status, `Strongest in your photo among these tiles: ${top.join(", ")}; in all of ${atlas.layer}: ${best.join(", ")}.`, "ok");
}

/** A new photo: the old one's ranking no longer holds. */
export function photoChangedForAtlas() {
  if (atlas && atlas.ranking) {
    atlas.ranking = null;
    renderTiles(grid, atlas, toggleChannel);
    syncAtlas();
    say(status, "The photo changed: the tiles are in channel order again.");
  }
  updateRankButton();
}

/** Fill the atlas fields from an atlas job and show that atlas (`draw`: draw what is missing). */
export async function useAtlasSettings(job, { draw = true } = {}) {
  const params = job.params || {};
  if (!(await chooseModel(params.model))) {
    say(status, `Model ${params.model} of that atlas is not offered here.`, "error");
    return;
  }
  if (!params.layer || !hasLayer(params.layer)) {
    say(status, `Layer ${params.layer || "(none)"} of that atlas is not in this model.`, "error");
    return;
  }
  chooseLayer(params.layer);
  if (Array.isArray(params.channels)) channelsInput.value = formatChannels(params.channels);
  if (params.size != null) sizeInput.value = String(params.size);
  if (params.steps != null) stepsInput.value = String(params.steps);
  panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
  await showAtlas({ draw });
}

export function wireAtlas() {
  showButton.addEventListener("click", () => showAtlas());
  rankButton.addEventListener("click", rankAtlas);
  // Enter in the atlas fields shows the atlas; it does not start a dream.
  for (const input of [channelsInput, sizeInput, stepsInput]) {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      showAtlas();
    });
  }
  updateRankButton();
}
