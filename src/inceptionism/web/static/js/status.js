// The page's status line (aria-live) under the Dream button.

import { byId, say } from "./dom.js";

const line = byId("status");

/** One line in the status: kind is "info", "ok", "busy" or "error". */
export function setStatus(text, kind = "info") {
  say(line, text, kind);
}
