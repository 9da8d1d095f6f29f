// The page's status line (aria-live): under the Dream button, or in the Live panel while the
// kind is live (the Dream button's panel is hidden then), so one line says everything.

import { byId, say } from "./dom.js";

const lines = { page: byId("status"), live: byId("live-status") };
let line = lines.page;

/** One line in the status: kind is "info", "ok", "busy" or "error". */
export function setStatus(text, kind = "info") {
  say(line, text, kind);
}

/** Say what follows in the Live panel's status line (`live`), or under the Dream button. */
export function statusInLivePanel(live) {
  line = live ? lines.live : lines.page;
}
