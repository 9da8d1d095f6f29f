// Building the page's elements: a node by id (looked up once, by the module that owns it),
// a new element in one call, the small removable chips.

/** The element with id `id`; a missing one is a mistake in the page, said at once. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no element #${id}`);
  return node;
}

/**
 * A new element: `make("button", {className: "x", type: "button", attrs: {"aria-label": "y"},
 * dataset: {id: "z"}, on: {click: f}}, "text", child)`. Other props are set as properties.
 */
export function make(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { attrs = {}, dataset = {}, on = {}, ...properties } = props;
  Object.assign(node, properties);
  Object.assign(node.dataset, dataset);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const [type, listener] of Object.entries(on)) node.addEventListener(type, listener);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** A chip naming `text`, with a button (labelled `removeLabel`) that calls `onRemove`. */
export function chip(text, removeLabel, onRemove, tag = "span") {
  const remove = make("button", {
    type: "button", className: "chip-remove", textContent: "×", attrs: { "aria-label": removeLabel },
    on: { click: onRemove },
  });
  return make(tag, { className: "chip" }, make("span", { textContent: text }), remove);
}

/** A one-line status paragraph: kind is "info", "ok", "busy" or "error". */
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.dataset.kind = kind;
}
