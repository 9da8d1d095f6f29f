// The atlas's tiles: one toggle button for each channel, its image once drawn, the photo's
// activation under it once ranked, pressed when the layer spec dreams its channel.

import { make } from "./dom.js";
import { formatActivation } from "./format.js";

const TILE_PX = 64; // the size an <img> reserves before its tile loads; CSS sizes it

/**
 * Show `atlas`'s tiles in `grid`, in its order (the photo's ranking first when there is one);
 * a tile already shown is kept (and its focus), `onToggle(channel)` is a press.
 */
export function renderTiles(grid, atlas, onToggle) {
  const existing = new Map([...grid.children].map((button) => [Number(button.dataset.channel), button]));
  const buttons = tileOrder(atlas).map((channel) => {
    const button = existing.get(channel) || tileButton(atlas.layer, channel, onToggle);
    updateTile(button, atlas, atlas.tiles.get(channel) || { channel, url: null, activation: null });
    return button;
  });
  const same = buttons.length === grid.children.length && buttons.every((button, i) => grid.children[i] === button);
  if (same) return;
  const focused = grid.contains(document.activeElement) ? document.activeElement : null;
  grid.replaceChildren(...buttons);
  if (focused) focused.focus({ preventScroll: true });
}

function tileOrder(atlas) {
  if (!atlas.ranking) return atlas.order;
  const rank = new Map([...atlas.ranking.keys()].map((channel, index) => [channel, index]));
  return [...atlas.order].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity));
}

function tileButton(layer, channel, onToggle) {
  const activation = make("span", { className: "tile-activation num", id: `atlas-activation-${channel}` });
  return make("button", {
    type: "button", className: "atlas-tile pending", dataset: { channel: String(channel) },
    attrs: { "aria-pressed": "false", "aria-label": `${layer} channel ${channel}`, "aria-describedby": activation.id },
    on: { click: () => onToggle(channel) },
  },
  make("span", { className: "tile-image" }),
  make("span", { className: "tile-caption" }, make("span", { className: "tile-channel", textContent: String(channel) }),
    activation));
}

/** Put a tile's image in once it is drawn, and the photo's activation under it once ranked. */
function updateTile(button, atlas, tile) {
  const channel = Number(button.dataset.channel);
  const picture = button.querySelector(".tile-image");
  let img = picture.querySelector("img");
  if (tile.url && (!img || img.getAttribute("src") !== tile.url)) {
    if (!img) {
      img = make("img", { alt: `${atlas.layer} channel ${channel}`, decoding: "async", width: TILE_PX, height: TILE_PX });
      picture.append(img);
    }
    img.src = tile.url;
  }
  button.classList.toggle("pending", !tile.url);
  const own = tile.activation != null ? `; on its own tile ${formatActivation(tile.activation)}` : "";
  button.title = `${atlas.layer}:${channel}${tile.url ? own : " (being drawn)"}`;
  showActivation(button.querySelector(".tile-activation"), atlas, channel);
}

function showActivation(span, atlas, channel) {
  const ranked = atlas.ranking && atlas.ranking.get(channel);
  if (ranked == null) {
    span.replaceChildren();
    span.removeAttribute("title");
    return;
  }
  span.replaceChildren(make("span", { className: "visually-hidden", textContent: "activation in your photo " }),
    formatActivation(ranked));
  span.title = `mean activation of ${atlas.layer}:${channel} in your photo`;
}

/** Press the tiles of the channels in `chosen` (a Set), release the others. */
export function pressTiles(grid, chosen) {
  for (const button of grid.children) {
    button.setAttribute("aria-pressed", String(chosen.has(Number(button.dataset.channel))));
  }
}
