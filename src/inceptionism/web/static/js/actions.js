// What the gallery's buttons do to the rest of the page: dream again on a result, and put a
// job's settings back into the form (an atlas's into the atlas panel).

import { ApiError, errorText } from "./api.js";
import { useAtlasSettings } from "./atlas.js";
import { byId } from "./dom.js";
import { fillForm, jobKind, setKind } from "./form.js";
import { shortId } from "./format.js";
import { extensionOf } from "./jobcard.js";
import { setPhoto } from "./photo.js";
import { setStatus } from "./status.js";

const photoPanel = byId("photo-panel");

/** Fetch a job's result and make it the current photo, to dream on it again. */
export async function dreamAgain(job) {
  setStatus("Fetching the result…", "busy");
  try {
    const response = await fetch(job.result, { credentials: "same-origin" });
    if (!response.ok) throw new ApiError(response.status, `cannot fetch the result (${response.status})`);
    const blob = await response.blob();
    const type = blob.type || job.media_type || "image/png";
    const name = `dream-${shortId(job.id)}.${extensionOf(type)}`;
    if (jobKind() === "video" || jobKind() === "live") setKind("dream");
    setPhoto(new File([blob], name, { type }), name);
    photoPanel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    setStatus(`The result of ${shortId(job.id)} is the current photo: dream again.`, "ok");
  } catch (error) {
    setStatus(`Dream again: ${errorText(error)}`, "error");
  }
}

/** Fill the form (or, for an atlas, the atlas panel) from a job's parameters. */
export async function useSettings(job) {
  try {
    if (job.kind === "atlas") {
      await useAtlasSettings(job);
      return;
    }
    if (await fillForm(job)) {
      setStatus(`Settings of ${shortId(job.id)} are in the form.`, "ok");
    } else {
      setStatus(`A layer of ${shortId(job.id)} is not in this model: the model's default is selected.`, "error");
    }
  } catch (error) {
    setStatus(`Use these settings: ${errorText(error)}`, "error");
  }
}
