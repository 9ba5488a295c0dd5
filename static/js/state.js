// One state object for the page, serialised to the URL hash so that a link
// reopens the same setup (as TensorFlow Playground's state.ts does).
//
// state.spec is exactly the body of POST /api/runs; state.run is the id of the
// run on view; state.ui holds view choices worth keeping in a link.

/** The API's defaults (GET /api/spec, declared once in the engine), set by setSpecDefaults. */
let specDefaults = null;

/** Take the API's defaults. The form holds augmentation as two numbers; runBody() sends
 *  null when both are 0 (off). */
export function setSpecDefaults(defaults) {
  specDefaults = Object.freeze({ ...defaults, augment: defaults.augment || { max_shift: 0, max_rotation: 0 } });
}

const UI_DEFAULTS = Object.freeze({ logScale: true });

const clone = (x) => JSON.parse(JSON.stringify(x));

/** A full spec: the defaults overlaid with `partial` (a preset's spec, say). */
export function fillSpec(partial = {}) {
  const spec = clone(specDefaults);
  for (const [key, value] of Object.entries(clone(partial))) {
    if (key === "optimizer" || key === "schedule" || key === "augment") Object.assign(spec[key], value || {});
    else spec[key] = value;
  }
  return spec;
}

/** The body of POST /api/runs for a spec: augmentation off is null, as the API takes it. */
export function runBody(spec) {
  const body = clone(spec);
  if (!Number(body.augment.max_shift) && !Number(body.augment.max_rotation)) body.augment = null;
  return body;
}

export const state = {
  spec: null, // load() fills it once the defaults are known
  run: null,
  ui: { ...UI_DEFAULTS },
};

// -- URL -----------------------------------------------------------------------
// Short keys for the scalar fields: hash key -> [path in the spec].
const FIELDS = {
  init: ["init"], opt: ["optimizer", "name"], lr: ["optimizer", "lr"], momentum: ["optimizer", "momentum"],
  beta1: ["optimizer", "beta1"], beta2: ["optimizer", "beta2"], eps: ["optimizer", "eps"],
  rho: ["optimizer", "rho"], wd: ["optimizer", "weight_decay"],
  sched: ["schedule", "name"], warmup: ["schedule", "warmup_epochs"], step_size: ["schedule", "step_size"],
  gamma: ["schedule", "gamma"], min_lr: ["schedule", "min_lr"],
  epochs: ["epochs"], batch: ["batch_size"], l2: ["l2"], dropout: ["dropout"], clip: ["clip_norm"],
  patience: ["early_stopping"], val: ["validation_split"], seed: ["seed"], dtype: ["dtype"],
  shift: ["augment", "max_shift"], rotate: ["augment", "max_rotation"],
};

const getPath = (obj, path) => path.reduce((o, k) => (o == null ? undefined : o[k]), obj);
function setPath(obj, path, value) {
  const last = path[path.length - 1];
  path.slice(0, -1).reduce((o, k) => o[k], obj)[last] = value;
}

function encodeValue(v) {
  if (v === null || v === undefined) return "";
  return String(v);
}

function decodeValue(text, like) {
  if (typeof like === "string") return text;
  if (typeof like === "boolean") return text === "true" || text === "1";
  if (text === "") return null;
  const n = Number(text);
  return Number.isNaN(n) ? text : n;
}

/** The state as a URL hash, e.g. `#dataset=moons&layers=8:relu,8:relu&lr=0.01&p.noise=0.2`. */
export function toHash(s = state) {
  const q = new URLSearchParams();
  q.set("dataset", s.spec.dataset);
  for (const [k, v] of Object.entries(s.spec.dataset_params)) q.set(`p.${k}`, encodeValue(v));
  q.set("layers", s.spec.layers.map((l) => `${l.units}:${l.activation}`).join(","));
  for (const [key, path] of Object.entries(FIELDS)) {
    const value = getPath(s.spec, path);
    if (value !== getPath(specDefaults, path)) q.set(key, encodeValue(value));
  }
  if (s.ui.logScale !== UI_DEFAULTS.logScale) q.set("log", s.ui.logScale ? "1" : "0");
  if (s.run) q.set("run", s.run);
  return "#" + q.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
}

/** A state from a URL hash; fields it does not name keep their defaults. */
export function fromHash(hash) {
  const q = new URLSearchParams(hash.replace(/^#/, ""));
  const spec = fillSpec();
  const ui = { ...UI_DEFAULTS };
  if (q.has("dataset")) spec.dataset = q.get("dataset");
  for (const [key, text] of q) {
    if (key.startsWith("p.")) spec.dataset_params[key.slice(2)] = decodeValue(text, text === "true" || text === "false" ? true : 0);
  }
  if (q.get("layers")) {
    spec.layers = q.get("layers").split(",").map((part) => {
      const [units, activation] = part.split(":");
      return { units: decodeValue(units, 0), activation: activation || "relu" };
    });
  }
  for (const [key, path] of Object.entries(FIELDS)) {
    if (q.has(key)) setPath(spec, path, decodeValue(q.get(key), getPath(specDefaults, path)));
  }
  if (q.has("log")) ui.logScale = q.get("log") === "1";
  return { spec, run: q.get("run") || null, ui };
}

/** Load the state from the page's URL. */
export function load() {
  Object.assign(state, fromHash(window.location.hash));
  return state;
}

/** Write the state to the URL (no new history entry). */
export function save() {
  const hash = toHash();
  if (hash !== window.location.hash) history.replaceState(null, "", hash);
}

export { getPath, setPath };
