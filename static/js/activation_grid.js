// Every hidden layer's activations as a heat map, one cell per unit in unit order (the
// draw panel's "which units fire"): darker orange, a larger output; blue, a negative one.
// Hover or tap a cell for its value.

import { el } from "./dom.js";
import { int, num } from "./format.js";

const MAX_CELL = 18;  // px: the largest cell
const MIN_CELL = 4;

/** Rows x columns for `n` units, about twice as wide as tall, filling whole rows
 *  when a divisor is near (512 -> 16 x 32, 256 -> 16 x 16, 100 -> 10 x 10). */
function gridShape(n) {
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
function heatColor(v, max) {
  if (!(max > 0) || !Number.isFinite(v)) return FIRE[0];
  return v >= 0 ? ramp(FIRE, v / max) : ramp(COLD, -v / max);
}

/** {min, max, active}: the layer's range and how many units output more than 0. */
function layerStats(values) {
  let min = Infinity, max = -Infinity, active = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    if (v > 1e-6) active++;
  }
  return { min, max, active };
}

/**
 * Heat maps in `box`, one figure per hidden layer.
 * Returns {show(modelId, hidden, activations), reset()}: `hidden` is the model's
 * architecture.hidden ([{units, activation}]), `activations` one array per hidden
 * layer (null: none yet); figures are rebuilt when the model changes or after reset().
 */
export function createActivationGrids(box) {
  function build(modelId, hidden) {
    box.replaceChildren();
    hidden.forEach((layer, i) => {
      const { rows, cols } = gridShape(layer.units);
      const readout = el("span", { class: "act-readout", "aria-live": "off" });
      const grid = el("canvas", {
        class: "act-grid", role: "img", "data-layer": String(i), "data-units": String(layer.units),
        "data-rows": String(rows), "data-cols": String(cols), "data-cells": "0",
        "aria-label": `Activations of hidden layer ${i + 1}: one cell per unit`,
      });
      const caption = el("figcaption", {}, el("strong", { text: `Layer ${i + 1}` }),
        ` · ${int(layer.units)} ${layer.activation} units (${rows}×${cols}) · `, readout);
      grid.addEventListener("pointermove", (e) => showUnit(grid, readout, e));
      grid.addEventListener("pointerdown", (e) => showUnit(grid, readout, e));
      grid.addEventListener("pointerleave", () => { readout.textContent = grid.dataset.summary || ""; });
      box.append(el("figure", { class: "act-layer" }, caption, grid));
    });
    box.dataset.model = modelId;
  }

  function showUnit(grid, readout, event) {
    const values = grid._values;
    if (!values) return;
    const rect = grid.getBoundingClientRect();
    const cell = Number(grid.dataset.cell);
    const c = Math.floor((event.clientX - rect.left) / cell), r = Math.floor((event.clientY - rect.top) / cell);
    const unit = r * Number(grid.dataset.cols) + c;
    if (c < 0 || c >= Number(grid.dataset.cols) || unit < 0 || unit >= values.length) return;
    readout.textContent = `unit ${unit}: ${num(values[unit], 3)}`;
  }

  function draw(grid, values) {
    const rows = Number(grid.dataset.rows), cols = Number(grid.dataset.cols);
    const width = box.clientWidth || 300;
    const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(width / cols)));
    const w = cell * cols, h = cell * rows;
    const dpr = window.devicePixelRatio || 1;
    if (grid.width !== Math.round(w * dpr) || grid.height !== Math.round(h * dpr)) {
      grid.width = Math.round(w * dpr);
      grid.height = Math.round(h * dpr);
    }
    grid.style.width = `${w}px`;
    grid.style.height = `${h}px`;
    grid.dataset.cell = String(cell);
    const g = grid.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const n = Number(grid.dataset.units);
    const stats = values ? layerStats(values) : null;
    const max = stats ? Math.max(Math.abs(stats.min), Math.abs(stats.max)) : 0;
    const gap = cell >= 8 ? 1 : 0;
    for (let u = 0; u < n; u++) {
      const [r, gg, b] = values ? heatColor(values[u], max) : [241, 245, 249];
      g.fillStyle = `rgb(${r},${gg},${b})`;
      g.fillRect((u % cols) * cell, Math.floor(u / cols) * cell, cell - gap, cell - gap);
    }
    grid._values = values;
    grid.dataset.cells = values ? String(values.length) : "0";
    grid.dataset.drawn = values ? "true" : "false";
    grid.dataset.summary = stats
      ? `${int(stats.active)} of ${int(n)} units fire (output > 0) · largest ${num(stats.max, 3)}`
      : "draw to see them";
    grid.parentElement.querySelector(".act-readout").textContent = grid.dataset.summary;
  }

  return {
    show(modelId, hidden, activations) {
      if (box.dataset.model !== modelId) build(modelId, hidden);
      box.querySelectorAll("canvas.act-grid").forEach((grid, i) => draw(grid, activations ? activations[i] : null));
    },
    reset() { box.dataset.model = ""; },
  };
}
