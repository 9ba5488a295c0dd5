// Weight and gradient histograms of one layer over the epochs, drawn as a heat
// map (as TensorBoard's): x = epoch, y = value, colour = how many values fall in
// that bin. Every epoch event carries each layer's histogram {counts, edges};
// the edges differ between epochs, so each histogram is re-binned onto one
// common value axis. Below: each layer's gradient norm and its dead ReLUs.

import { fitCanvas } from "./canvas.js";
import { createLayerChart } from "./charts.js";
import { num, pct } from "./format.js";

const ROWS = 48; // value bins on the y axis
const MARGIN = { left: 48, right: 6, top: 6, bottom: 18 };
// Colour ramp for a bin's count relative to its epoch's fullest bin.
const RAMP = [[239, 246, 255], [147, 197, 253], [37, 99, 235], [30, 27, 75]];

function rampColor(t) {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return RAMP[i].map((c, k) => Math.round(c + (RAMP[i + 1][k] - c) * f));
}

/** Re-bin histograms onto ROWS equal bins over their common range: returns
 *  {lo, hi, grid: Float64Array(epochs * ROWS)} with grid[e * ROWS + row]. */
export function rebin(histograms) {
  let lo = Infinity, hi = -Infinity;
  for (const h of histograms) {
    lo = Math.min(lo, h.edges[0]);
    hi = Math.max(hi, h.edges[h.edges.length - 1]);
  }
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const grid = new Float64Array(histograms.length * ROWS);
  const scale = ROWS / (hi - lo);
  histograms.forEach((h, e) => {
    for (let j = 0; j < h.counts.length; j++) {
      const count = h.counts[j];
      if (!count) continue;
      const a = (h.edges[j] - lo) * scale, b = (h.edges[j + 1] - lo) * scale;
      if (b - a < 1e-9) { grid[e * ROWS + Math.min(ROWS - 1, Math.floor(a))] += count; continue; }
      // spread the count over the rows the bin overlaps, in proportion
      for (let r = Math.max(0, Math.floor(a)); r < Math.min(ROWS, Math.ceil(b)); r++) {
        const overlap = Math.min(b, r + 1) - Math.max(a, r);
        if (overlap > 0) grid[e * ROWS + r] += (count * overlap) / (b - a);
      }
    }
  });
  return { lo, hi, grid };
}

export function createHistograms({ canvas, layerSelect, kindSelect, readout, normsEl, statsBody }) {
  let history = [];
  let layout = null; // what the last drawing maps: for the hover readout
  const norms = createLayerChart(normsEl);
  const defaultReadout = readout.textContent;

  layerSelect.addEventListener("change", draw);
  kindSelect.addEventListener("change", draw);

  function syncLayerOptions(layers) {
    const names = layers.map((l) => `${l.name} (${l.shape.join("×")}, ${l.activation})`);
    const current = [...layerSelect.options].map((o) => o.textContent);
    if (names.join() === current.join()) return;
    const keep = layerSelect.selectedIndex;
    layerSelect.replaceChildren(...names.map((text, i) => {
      const o = document.createElement("option");
      o.value = String(i);
      o.textContent = text;
      return o;
    }));
    layerSelect.selectedIndex = keep >= 0 && keep < names.length ? keep : 0;
  }

  function draw() {
    const withLayers = history.filter((m) => m.layers && m.layers.length);
    canvas.dataset.epochs = String(withLayers.length);
    if (!withLayers.length) {
      fitCanvas(canvas, 0.62);
      canvas.dataset.drawn = "false";
      layout = null;
      return;
    }
    const li = Math.min(Number(layerSelect.value || 0), withLayers[withLayers.length - 1].layers.length - 1);
    const kind = kindSelect.value;
    const hists = withLayers.map((m) => m.layers[li][kind]);
    const { lo, hi, grid } = rebin(hists);
    const n = hists.length;

    // one pixel per (epoch, row), scaled up into the plot area
    const img = new ImageData(n, ROWS);
    for (let e = 0; e < n; e++) {
      let max = 0;
      for (let r = 0; r < ROWS; r++) max = Math.max(max, grid[e * ROWS + r]);
      for (let r = 0; r < ROWS; r++) {
        const v = grid[e * ROWS + r];
        const o = 4 * ((ROWS - 1 - r) * n + e); // row 0 (lowest value) at the bottom
        if (!v) { img.data[o + 3] = 0; continue; }
        const [R, G, B] = rampColor(0.15 + 0.85 * Math.sqrt(v / max));
        img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
      }
    }
    const tile = document.createElement("canvas");
    tile.width = n; tile.height = ROWS;
    tile.getContext("2d").putImageData(img, 0, 0);

    const { ctx, w, h } = fitCanvas(canvas, 0.62);
    const pw = w - MARGIN.left - MARGIN.right, ph = h - MARGIN.top - MARGIN.bottom;
    ctx.fillStyle = "#f8fafc";
    ctx.fillRect(MARGIN.left, MARGIN.top, pw, ph);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tile, MARGIN.left, MARGIN.top, pw, ph);
    // zero line and axis labels
    ctx.fillStyle = "#475569";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText(num(hi, 2), MARGIN.left - 4, MARGIN.top);
    ctx.textBaseline = "bottom";
    ctx.fillText(num(lo, 2), MARGIN.left - 4, MARGIN.top + ph);
    if (lo < 0 && hi > 0) {
      const y0 = MARGIN.top + ph * (hi / (hi - lo));
      ctx.strokeStyle = "rgba(220, 38, 38, 0.5)";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y0);
      ctx.lineTo(MARGIN.left + pw, y0);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textBaseline = "middle";
      ctx.fillText("0", MARGIN.left - 4, y0);
    }
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    const e0 = withLayers[0].epoch, e1 = withLayers[n - 1].epoch;
    ctx.fillText(`epoch ${e0}`, MARGIN.left, MARGIN.top + ph + 3);
    ctx.textAlign = "right";
    ctx.fillText(String(e1), MARGIN.left + pw, MARGIN.top + ph + 3);
    canvas.dataset.drawn = "true";
    canvas.setAttribute("aria-label", `Heat map of ${withLayers[0].layers[li].name} ${kind} over epochs ${e0}–${e1}: values from ${num(lo)} to ${num(hi)}`);
    layout = { n, lo, hi, grid, pw, ph, epochs: withLayers.map((m) => m.epoch), kind };
  }

  canvas.addEventListener("mousemove", (event) => {
    if (!layout) return;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left - MARGIN.left, y = event.clientY - rect.top - MARGIN.top;
    if (x < 0 || y < 0 || x >= layout.pw || y >= layout.ph) { readout.textContent = defaultReadout; return; }
    const e = Math.min(layout.n - 1, Math.floor((x / layout.pw) * layout.n));
    const r = ROWS - 1 - Math.min(ROWS - 1, Math.floor((y / layout.ph) * ROWS));
    const value = layout.lo + ((r + 0.5) / ROWS) * (layout.hi - layout.lo);
    readout.textContent = `epoch ${layout.epochs[e]} · ${layout.kind} ≈ ${num(value, 3)} · count ≈ ${num(layout.grid[e * ROWS + r], 3)}`;
  });
  canvas.addEventListener("mouseleave", () => { readout.textContent = defaultReadout; });

  function updateStats() {
    const last = history[history.length - 1];
    statsBody.replaceChildren();
    if (!last || !last.layers) return;
    for (const l of last.layers) {
      const tr = document.createElement("tr");
      const cells = [l.name, l.shape.join("×"), num(l.weight_norm, 3), num(l.grad_norm, 3), l.dead_fraction == null ? "–" : pct(l.dead_fraction)];
      cells.forEach((text, i) => {
        const td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) td.scope = "row";
        if (i > 1) td.className = "num";
        if (i === 4 && l.dead_fraction > 0.5) td.classList.add("warn");
        td.textContent = text;
        tr.append(td);
      });
      statsBody.append(tr);
    }
  }

  return {
    reset() {
      history = [];
      layerSelect.replaceChildren();
      norms.clear();
      statsBody.replaceChildren();
      draw();
    },
    update(next) {
      history = next;
      const last = history[history.length - 1];
      if (last && last.layers) syncLayerOptions(last.layers);
      draw();
      norms.update(history, "grad_norm");
      updateStats();
    },
    redraw: draw,
  };
}
