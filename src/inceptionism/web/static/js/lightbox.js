// An image enlarged over the page (a zoom's label chart): a modal dialog that Escape, the Close
// button or a click beside the image closes.

import { byId } from "./dom.js";

const dialog = byId("lightbox");
const image = byId("lightbox-image");
const caption = byId("lightbox-caption");
const closeButton = byId("lightbox-close");

/** Show the image at `src`, described by `text`. */
export function openLightbox(src, text) {
  image.src = src;
  image.alt = text;
  caption.textContent = text;
  dialog.showModal();
  closeButton.focus();
}

export function wireLightbox() {
  closeButton.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop, around the figure
  });
  dialog.addEventListener("close", () => image.removeAttribute("src"));
}
