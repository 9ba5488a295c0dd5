// Pure helpers for the draw panel (no DOM, no fetch): the activation grid's
// shape and colours, model labels, and the throttle that paces predictions.

/** Rows x columns for `n` units, about twice as wide as tall, filling whole rows
 *  when a divisor is near (512 -> 16 x 32, 256 -> 16 x 16, 100 -> 10 x 10). */
export function gridShape(n) {
  if (n <= 0) return { rows: 0, cols: 0 };
  const ideal = Math.sqrt(2 * n);
  let best = null;
  for (let c = Math.max(1, Math.floor(ideal * 0.7)); c <= Math.ceil(ideal * 1.45); c++) {
    if (n % c === 0 && (best === null || Math.abs(c - ideal) < Math.abs(best - ideal))) best = c;
  }
  const cols = Math.min(n, best ?? Math.ceil(ideal));
  return { rows: Math.ceil(n / cols), cols };
}

const lerp = (a, b, t) => a + (b - a) * t;
function ramp(stops, t) {
  t = Math.max(0, Math.min(1, t));
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((v, ch) => Math.round(lerp(v, stops[i + 1][ch], f)));
}

// 0 -> near white, 1 -> dark red: "how hard this unit fires".
const FIRE = [[248, 250, 252], [254, 215, 170], [249, 115, 22], [194, 65, 12], [124, 45, 18]];
// Negative outputs (tanh, leaky ReLU, GELU dips): blue.
const COLD = [[248, 250, 252], [191, 219, 254], [59, 130, 246], [30, 58, 138]];

/** The colour [r, g, b] of one output `v` on a scale whose ends are ±`max`. */
export function heatColor(v, max) {
  if (!(max > 0) || !Number.isFinite(v)) return FIRE[0];
  return v >= 0 ? ramp(FIRE, v / max) : ramp(COLD, -v / max);
}

/** {min, max, active}: the layer's range and how many units output more than 0. */
export function layerStats(values) {
  let min = Infinity, max = -Infinity, active = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    if (v > 1e-6) active++;
  }
  return { min, max, active };
}

/** "mnist 784-512-10 · 97.1% test · 14:05" for the picker. */
export function modelLabel(model, now = new Date()) {
  const acc = model.metrics && model.metrics.test && model.metrics.test.accuracy;
  const when = new Date(model.created_at * 1000);
  const sameDay = when.toDateString() === now.toDateString();
  const time = sameDay
    ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : when.toLocaleDateString([], { month: "short", day: "numeric" });
  const parts = [model.name];
  if (typeof acc === "number") parts.push(`${(100 * acc).toFixed(1)}% test`);
  parts.push(time);
  return parts.join(" · ");
}

/**
 * Paces calls of `send` (which returns a promise): after `request()`, `send` runs
 * as soon as no earlier call is in flight and `intervalMs` have passed since the
 * last one started. Requests made meanwhile fold into one. Returns {request, cancel}.
 * `now` and `setTimer(fn, ms)` are the clock (the page's by default; tests pass a fake one).
 */
export function createThrottle(send, { intervalMs = 100, now = () => performance.now(),
  setTimer = (fn, ms) => setTimeout(fn, ms) } = {}) {
  let wanted = false, inFlight = false, lastStart = -Infinity, waiting = false;

  function pump() {
    if (inFlight || !wanted || waiting) return;
    const wait = lastStart + intervalMs - now();
    if (wait > 0) {
      waiting = true;
      setTimer(() => { waiting = false; pump(); }, wait);
      return;
    }
    wanted = false;
    inFlight = true;
    lastStart = now();
    Promise.resolve()
      .then(send)
      .catch(() => {}) // `send` reports its own errors
      .finally(() => { inFlight = false; pump(); });
  }

  return {
    request() { wanted = true; pump(); },
    cancel() { wanted = false; },
  };
}
