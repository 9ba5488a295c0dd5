// Small formatting helpers shared by the panels (no DOM).

const INT = new Intl.NumberFormat("en-US");

/** 401408 -> "401,408" */
export const int = (n) => INT.format(n);

/** A metric for display: 4 significant digits, exponent for tiny or huge values. */
export function num(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(digits)));
}

export const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);

/** Seconds as m:ss or h:mm:ss. */
export function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** The output head a task trains with. */
export const HEAD = { binary: "sigmoid", multiclass: "softmax", regression: "linear" };

/** Layer widths input -> output, e.g. [2, 4, 1]; info is the dataset's entry from GET /api/datasets. */
export function widths(spec, info) {
  const hidden = spec.layers.map((l) => Number(l.units));
  return info ? [info.n_features, ...hidden, info.n_outputs] : hidden;
}

/** "xor 2-4-1" */
export function runLabel(spec, info) {
  return `${spec.dataset} ${widths(spec, info).join("-")}`;
}

export const TERMINAL = new Set(["completed", "stopped", "failed"]);
export const ACTIVE = new Set(["queued", "running", "paused"]);
