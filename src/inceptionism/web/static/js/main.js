// Inceptionism studio: the page's behaviour, plain JavaScript modules with no build step and no
// libraries. This module wires the others together and starts the page.
//
// The modules, by concern: api (fetch, refusals), jobstream (following any job), options (the
// inputs' bounds), layers and classes (what to dream), schedule (preset and sliders), photo and
// mask (the input), form (the job's params), run (Dream and Cancel), live (the Live panel: its
// source, socket, meter and settings in livesource, livesocket, livemeter, livesettings),
// gallery and jobcard (the jobs), atlas and tiles (the atlas panel), lightbox and toast,
// actions (gallery -> form).

import { dreamAgain, useSettings } from "./actions.js";
import { errorText } from "./api.js";
import { clearAtlas, photoChangedForAtlas, syncAtlas, useAtlasSettings, wireAtlas } from "./atlas.js";
import { wireClasses } from "./classes.js";
import { wireForm } from "./form.js";
import { loadGallery, setJobActions, wireGallery } from "./gallery.js";
import { isActive } from "./jobstream.js";
import { loadModels, onLayerChange, onModelChange, wireLayers } from "./layers.js";
import { wireLightbox } from "./lightbox.js";
import { wireLive } from "./live.js";
import { wireMask } from "./mask.js";
import { loadOptions } from "./options.js";
import { onPhotoChange, wirePhoto } from "./photo.js";
import { followDream, wireRun } from "./run.js";
import { buildSliders, loadPresets, wireSchedule } from "./schedule.js";
import { setStatus } from "./status.js";

function wire() {
  wireMask();
  wirePhoto();
  wireLayers({ onError: (error) => setStatus(`Cannot load the layers: ${errorText(error)}`, "error") });
  wireClasses();
  wireSchedule();
  wireForm();
  wireRun();
  wireLive();
  wireAtlas();
  wireGallery();
  wireLightbox();
  onModelChange(clearAtlas);
  onLayerChange(syncAtlas);
  onPhotoChange(photoChangedForAtlas);
  setJobActions({ again: dreamAgain, use: useSettings });
}

/** The gallery; a job still running from before a reload is followed again (an atlas in its panel). */
async function resume() {
  const answer = await loadGallery(1);
  const running = answer.jobs.find((job) => isActive(job.state) && job.kind !== "atlas");
  if (running) followDream(running.id);
  const drawing = answer.jobs.find((job) => isActive(job.state) && job.kind === "atlas");
  if (drawing) await useAtlasSettings(drawing, { draw: false });
}

async function start() {
  wire();
  try {
    // The sliders need the options (their bounds and defaults) and the presets (their values).
    await Promise.all([loadPresets(), loadModels(), loadOptions()]);
    buildSliders();
    setStatus("Ready: choose a photo, or start from noise.");
  } catch (error) {
    setStatus(`Cannot reach the studio's server: ${errorText(error)}`, "error");
  }
  try {
    await resume();
  } catch (error) {
    setStatus(`Cannot load the gallery: ${errorText(error)}`, "error");
  }
}

start();
