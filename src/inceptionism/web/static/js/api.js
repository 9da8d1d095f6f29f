// Talking to the studio's server (same origin): one fetch wrapper, its refusals, and JSON that
// keeps long seeds whole.

/** A refusal (4xx or 5xx): `message` is the server's one-line detail. */
export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** fetch() `path`: its JSON answer (null for 204), or an ApiError carrying the server's detail. */
export async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 204) return null;
  const body = readJson(await response.text());
  if (!response.ok) {
    throw new ApiError(response.status, detailOf(body, response, path), response.headers.get("Retry-After"));
  }
  return body;
}

/** POST `body` as JSON to `path`. */
export function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: toJson(body) });
}

/** A refusal in words, with how long to wait when the queue is full. */
export function errorText(error) {
  if (error instanceof ApiError) {
    const retry = error.status === 429 && error.retryAfter ? ` (try again in ${error.retryAfter} s)` : "";
    return `${error.message}${retry}`;
  }
  return `${error.message || error}`;
}

function readJson(text) {
  if (!text) return null;
  try {
    return parseJson(text);
  } catch {
    return null; // not JSON (a proxy's error page): the status line says what happened
  }
}

/** The one-line detail of an error body; FastAPI's list of field errors is joined into one line. */
function detailOf(body, response, path) {
  let detail = body && body.detail;
  if (Array.isArray(detail)) detail = detail.map((item) => item.msg || JSON.stringify(item)).join("; ");
  return detail ? String(detail) : `${response.status} ${response.statusText || "error"} from ${path}`;
}

// Seeds are integers up to 2**63 - 1, beyond what a JavaScript number holds exactly
// (2**53 - 1). They are read as strings and sent back as JSON integers, digit for digit.
const BIG_SEED = /("seed"\s*:\s*)(\d{16,})(?=\s*[,}])/g;

/** JSON.parse, keeping long seeds as digit strings. */
export function parseJson(text) {
  return JSON.parse(text.replace(BIG_SEED, '$1"$2"'));
}

/** JSON.stringify, writing a digit-string or BigInt seed as a JSON integer. */
export function toJson(value, indent) {
  const text = JSON.stringify(value, (key, item) => (typeof item === "bigint" ? item.toString() : item), indent);
  return text.replace(/("seed":\s*)"(\d+)"/g, "$1$2");
}
