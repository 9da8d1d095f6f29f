// Toasts: a short message with one action (e.g. "Deleted. Undo") that goes away after a while.

import { byId, make } from "./dom.js";

const region = byId("toasts");

/**
 * Show `text` with a button `action` for `seconds`. A press of the button calls `onAction`; once
 * the time is up (or `expire()` is called), `onExpire`. Exactly one of the two runs.
 * Returns {expire}: end the toast now as if its time were up.
 */
export function toast(text, { action, seconds, onAction, onExpire }) {
  let open = true;
  const close = (callback) => {
    if (!open) return;
    open = false;
    clearTimeout(timer);
    item.remove();
    callback();
  };
  const button = make("button", { type: "button", className: "small", textContent: action });
  const item = make("div", { className: "toast", attrs: { role: "status" } }, make("span", { textContent: text }), button);
  button.addEventListener("click", () => close(onAction));
  const timer = setTimeout(() => close(onExpire), seconds * 1000);
  region.append(item);
  return { expire: () => close(onExpire) };
}
