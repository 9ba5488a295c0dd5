// The builder's dataset preview: a few training examples as the dataset's kind calls
// for: digits as images with their labels, 2-D points as a scatter plot by class, a 1-D
// regression as points and its trend, anything else as a table of rows.

import * as api from "./api.js";
import { classLegend, drawAxes, drawDigits, drawPoints, fitCanvas, frame, span } from "./canvas.js";
import { el } from "./dom.js";
import { int } from "./format.js";

/** Points drawn in a 2-D or 1-D dataset's preview. */
const PREVIEW_POINTS = 300;

/**
 * The preview in `box`, its caption in `caption`. current(): {info, params, seed}, the
 * dataset (its entry from GET /api/datasets) as the builder has it when the preview loads.
 * Returns {schedule(delayMs)}: load a new preview after the delay (a newer call wins).
 */
export function createDatasetPreview(box, caption, current) {
  let timer = null;
  let token = 0;

  async function load() {
    const mine = ++token;
    const { info, params, seed } = current();
    if (!info) return;
    if (!info.available) {
      box.replaceChildren(el("p", { class: "muted", text: info.error || "This dataset is not available on this server." }));
      caption.textContent = "";
      return;
    }
    const kind = previewKind(info);
    const n = kind === "digits" ? 16 : kind === "table" ? 8 : PREVIEW_POINTS;
    let samples;
    try {
      samples = await api.getSamples(info.name, n, params, seed);
    } catch (err) {
      if (mine === token) box.replaceChildren(el("p", { class: "error", text: `No preview: ${err.detail}` }));
      return;
    }
    if (mine !== token) return; // a newer preview was asked for
    box.dataset.kind = kind;
    if (kind === "digits") {
      const canvas = el("canvas", { role: "img", "aria-label": `${samples.X.length} example digits with their labels` });
      box.replaceChildren(canvas);
      drawDigits(canvas, samples.X, samples.y.map((k) => samples.classes[k] ?? k), 8);
      caption.textContent = `${samples.X.length} of ${int(info.train_size)} training images, with their labels.`;
    } else if (kind === "scatter" || kind === "line") {
      const canvas = el("canvas", { role: "img", "aria-label": `Scatter plot of ${samples.X.length} training points` });
      box.replaceChildren(canvas);
      drawPreviewPlot(canvas, samples, info, kind);
      caption.replaceChildren(...legend(info, kind, samples.X.length));
    } else {
      box.replaceChildren(previewTable(samples, info));
      const scroller = box.querySelector(".table-scroll");
      // overlay scrollbars show nothing until scrolled: say when columns are out of sight
      const hidden = scroller.scrollWidth > scroller.clientWidth + 1
        ? ` Scroll the table sideways for all ${int(samples.X[0].length)} columns.` : "";
      caption.textContent = `${samples.X.length} of ${int(info.train_size)} training rows.${hidden}`;
    }
  }

  return {
    schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(load, delay);
    },
  };
}

function drawPreviewPlot(canvas, samples, info, kind) {
  const { ctx, w, h } = fitCanvas(canvas, 0.6);
  const margin = { left: 30, right: 8, top: 8, bottom: 16 };
  if (kind === "scatter") {
    const f = frame(w, h, span(samples.X.map((p) => p[0])), span(samples.X.map((p) => p[1])), margin);
    drawPoints(ctx, f, samples.X.map((p, i) => [p[0], p[1], samples.y[i]]), { radius: 3 });
    drawAxes(ctx, f);
  } else {
    const pts = samples.X.map((p, i) => [p[0], samples.y[i][0]]).sort((a, b) => a[0] - b[0]);
    const f = frame(w, h, span(pts.map((p) => p[0]), 0.02), span(pts.map((p) => p[1])), margin);
    drawPoints(ctx, f, pts.map(([x, y]) => [x, y, 0]), { regression: true, radius: 2 });
    // the trend: a moving average over neighbouring points
    const k = Math.max(1, Math.round(pts.length / 25));
    ctx.beginPath();
    pts.forEach(([x], i) => {
      const win = pts.slice(Math.max(0, i - k), i + k + 1);
      const y = win.reduce((acc, p) => acc + p[1], 0) / win.length;
      if (i) ctx.lineTo(f.x(x), f.y(y)); else ctx.moveTo(f.x(x), f.y(y));
    });
    ctx.strokeStyle = "#2563eb";
    ctx.lineWidth = 2;
    ctx.stroke();
    drawAxes(ctx, f);
  }
}

function legend(info, kind, n) {
  // The server sends at most PREVIEW_POINTS: say when the picture is a sample.
  const points = `${n} training points${n >= PREVIEW_POINTS ? " (a random sample)" : ""}`;
  if (kind === "line") return [`${points}: y against x.`];
  return [`${points}. `, ...classLegend(info.classes)];
}

/** Past this many columns the table packs tighter, so letters' 26 one-hot columns fit the sidebar. */
const DENSE_COLUMNS = 12;

function previewTable(samples, info) {
  const names = samples.feature_names.length ? samples.feature_names : samples.X[0].map((_, j) => `x${j + 1}`);
  const oneHot = samples.X.every((row) => row.every((v) => v === 0 || v === 1));
  const head = el("tr", {}, el("th", { scope: "col", text: "label" }), ...names.map((name) => el("th", { scope: "col", text: name })));
  const rows = samples.X.map((row, i) => el("tr", {},
    el("th", { scope: "row", text: info.task === "regression" ? String(samples.y[i]) : String(samples.classes[samples.y[i]] ?? samples.y[i]) }),
    ...row.map((v) => el("td", { class: oneHot && v ? "num on" : "num", text: String(Number(v.toFixed(2))) }))));
  return el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Example rows" },
    el("table", { class: names.length > DENSE_COLUMNS ? "preview-table dense" : "preview-table" },
      el("thead", {}, head), el("tbody", {}, ...rows)));
}

function previewKind(info) {
  if (info.input_shape.length === 2) return "digits";
  if (info.n_features === 2 && info.task !== "regression") return "scatter";
  if (info.n_features === 1 && info.task === "regression") return "line";
  return "table";
}
