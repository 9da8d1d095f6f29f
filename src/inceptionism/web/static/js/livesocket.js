// The live session's WebSocket (/api/live, same origin): frames out as binary (a 4-byte
// big-endian id, then a JPEG), commands out as JSON text; messages in as JSON text, each
// "dreamed" line followed by its dream as binary (the same id, then a JPEG).

import { parseJson, toJson } from "./api.js";

const ID_BYTES = 4;

/**
 * Open a live session. `handlers`: onMessage(message) for each JSON message but "dreamed";
 * onDream(line, blob) for each dream with its "dreamed" line; onClose({code, reason, opened}),
 * `opened` false when it closed before it opened (a refused handshake reads as code 1006).
 * Returns {sendFrame(id, blob), send(command), busy(), close()}.
 */
export function openLive({ onMessage, onDream, onClose }) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/live`);
  socket.binaryType = "arraybuffer";
  let line = null; // the "dreamed" line whose dream comes next
  socket.addEventListener("message", ({ data }) => {
    if (typeof data !== "string") {
      const dream = readDream(data, line);
      line = null;
      if (dream) onDream(dream.line, dream.blob);
      return;
    }
    const message = parseJson(data);
    if (message.type === "dreamed") line = message;
    else onMessage(message);
  });
  let opened = false;
  socket.addEventListener("open", () => { opened = true; });
  socket.addEventListener("close", ({ code, reason }) => onClose({ code, reason, opened }));
  const open = () => socket.readyState === WebSocket.OPEN; // nothing is sent once it closes
  return {
    sendFrame: (id, blob) => open() && socket.send(new Blob([frameId(id), blob])),
    send: (command) => open() && socket.send(toJson(command)),
    busy: () => !open() || socket.bufferedAmount > 0,
    close: () => socket.close(1000, "stopped"),
  };
}

/** The id as the frame message starts with it. */
function frameId(id) {
  const bytes = new ArrayBuffer(ID_BYTES);
  new DataView(bytes).setUint32(0, id);
  return bytes;
}

/** A dream message with its line ({line, blob}); null when its line did not come just before it. */
function readDream(buffer, line) {
  if (buffer.byteLength <= ID_BYTES) return null;
  const id = new DataView(buffer).getUint32(0);
  if (!line || line.id !== id) return null;
  return { line, blob: new Blob([buffer.slice(ID_BYTES)], { type: "image/jpeg" }) };
}
