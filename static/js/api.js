// The server's API: fetch and EventSource only, no DOM.
// Every failure becomes an ApiError carrying the server's `detail` (and, for a
// 422 from validation, `errors[]` with each field's `loc`).

export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message}): is it running?`);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    // a non-JSON body: fall through with data = null
  }
  if (!response.ok) {
    const detail = (data && typeof data.detail === "string") ? data.detail : `${method} ${path} failed with HTTP ${response.status}`;
    throw new ApiError(response.status, detail, (data && data.errors) || []);
  }
  return data;
}

export const getPresets = () => request("GET", "/api/presets");
export const getDatasets = () => request("GET", "/api/datasets");
export const createRun = (spec) => request("POST", "/api/runs", spec);
export const listRuns = (limit = 20) => request("GET", `/api/runs?limit=${limit}`);
export const getRun = (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`);
/** A run with per-epoch numbers only (no histograms or boundary views): for comparing curves. */
export const getRunMetrics = (id) => request("GET", `/api/runs/${encodeURIComponent(id)}?history=metrics`);
export const controlRun = (id, action) => request("POST", `/api/runs/${encodeURIComponent(id)}/${action}`);

/** Trained models, newest first; `dataset` keeps one dataset's ("mnist"). */
export const listModels = (dataset) =>
  request("GET", `/api/models${dataset ? `?dataset=${encodeURIComponent(dataset)}` : ""}`);

/** Classify a drawing (a PNG data: URL) with an MNIST model:
 *  {predictions, labels, probabilities, activations, input}. */
export const predictImage = (id, dataUrl) =>
  request("POST", `/api/models/${encodeURIComponent(id)}/predict`, { image: dataUrl });

/** One example through every stage: body {dataset_index, split} | {image, label} | {input, label}, plus optimizer. */
export const trace = (modelId, body) => request("POST", `/api/models/${encodeURIComponent(modelId)}/trace`, body);

/** Confusion matrix, per-class accuracy and the misclassified examples of a split;
 * cell = [true, predicted] lists only that cell's mistakes. */
export function evaluation(modelId, split = "test", limit = 100, cell = null) {
  const only = cell ? `&true=${cell[0]}&predicted=${cell[1]}` : "";
  return request("GET", `/api/models/${encodeURIComponent(modelId)}/evaluation?split=${split}&limit=${limit}${only}`);
}

/** Rows of the model's dataset by index: {split, input_shape, examples: [{index, x, label}]}. */
export function examples(modelId, indices, split = "test") {
  const q = new URLSearchParams({ split });
  for (const i of indices) q.append("index", String(i));
  return request("GET", `/api/models/${encodeURIComponent(modelId)}/examples?${q}`);
}

/** A few examples of a dataset for previews: {X, y, input_shape, classes, feature_names, task}.
 *  `params` and `dataSeed` describe the dataset as a run would build it. */
export function getSamples(name, n, params = {}, dataSeed = 0) {
  const q = new URLSearchParams({ n: String(n) });
  if (Object.keys(params).length) q.set("params", JSON.stringify(params));
  if (dataSeed) q.set("data_seed", String(dataSeed));
  return request("GET", `/api/datasets/${encodeURIComponent(name)}/samples?${q}`);
}

/** The run spec's fields as the engine declares them (GET /api/spec): `defaults`, `fields`
 *  (each one's default, bounds, choices, doc), the server's `limits`, and `choices`, the
 *  lists the form's selects offer. */
export async function getSpec() {
  const spec = await request("GET", "/api/spec");
  const f = spec.fields;
  spec.choices = {
    activation: f.layers.fields.activation.choices,
    optimizer: f.optimizer.fields.name.choices,
    schedule: f.schedule.fields.name.choices,
    init: f.init.choices,
    dtype: f.dtype.choices,
  };
  return spec;
}

const RUN_EVENTS = ["status", "progress", "epoch", "done"];
const MAX_RETRIES = 12; // ~1.5 minutes of backing off

/**
 * Follow a run's server-sent events.
 *
 * handlers: {status, progress, epoch, done, error(data), connection(state, text)}.
 * Events arrive in `id` order; the history comes first, then live ones. The browser
 * reconnects by itself with Last-Event-ID after a dropped connection; when it gives
 * up (the connection closed for good), we open a new stream and skip the events
 * already seen. Returns {close()}.
 */
export function followRun(id, handlers) {
  let source = null;
  let lastSeq = 0;
  let closed = false;
  let retryTimer = null;
  let retries = 0;
  let lost = false;
  const url = `/api/runs/${encodeURIComponent(id)}/events`;
  const say = (state, text) => handlers.connection && handlers.connection(state, text);

  function finish() {
    closed = true;
    clearTimeout(retryTimer);
    if (source) source.close();
  }

  function accept(type, event) {
    const seq = Number(event.lastEventId);
    if (seq && seq <= lastSeq) return; // already seen before a reconnect
    if (seq) lastSeq = seq;
    retries = 0;
    const data = JSON.parse(event.data);
    if (type === "done" || type === "error") finish();
    const handler = handlers[type];
    if (handler) handler(data, seq);
  }

  function open() {
    // After a reopen, ask only for what came after the last event seen.
    source = new EventSource(lastSeq ? `${url}?after=${lastSeq}` : url);
    source.onopen = () => {
      if (lost) say("open", "Connection to the server is back; following the run again.");
      lost = false;
    };
    for (const type of RUN_EVENTS) source.addEventListener(type, (e) => accept(type, e));
    source.addEventListener("error", (e) => {
      if (e instanceof MessageEvent && e.data) { // the run failed: a server-sent `error` event
        accept("error", e);
        return;
      }
      if (closed) return;
      lost = true;
      if (source.readyState === EventSource.CONNECTING) {
        say("reconnecting", "Connection to the server lost; reconnecting…");
        return;
      }
      // CLOSED: the browser gave up (e.g. an HTTP error); try again ourselves, backing off.
      source.close();
      retries += 1;
      if (retries > MAX_RETRIES) {
        finish();
        say("failed", "The connection to the server is lost. Reload the page to try again.");
        return;
      }
      const delay = Math.min(10000, 500 * 2 ** Math.min(retries, 5));
      say("reconnecting", `Connection to the server lost; retrying in ${Math.round(delay / 1000)} s…`);
      retryTimer = setTimeout(() => { if (!closed) open(); }, delay);
    });
  }

  open();
  return { close: finish, get lastSeq() { return lastSeq; } };
}
