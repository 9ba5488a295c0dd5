// Canvas helpers shared by the dataset preview, the decision boundary and the drawing pad:
// sharp drawing on high-DPI screens, class colours, scatter plots, digit images.

/** One palette for every task, so class k has one colour everywhere: orange and blue first
 * (as TensorFlow Playground draws two classes), then the rest of Tableau 10. */
const CLASS_COLORS = ["#f59322", "#0877bd", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

export function classColor(k) {
  return CLASS_COLORS[k % CLASS_COLORS.length];
}

/** One legend item per class: a swatch of its colour and its name (as text). */
export function classLegend(classes) {
  return classes.map((name, k) => {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = classColor(k);
    const item = document.createElement("span");
    item.className = "swatch-item";
    item.append(swatch, ` ${name}`);
    return item;
  });
}

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Size the canvas to its CSS box (height = width * aspect unless given) at the
 *  device pixel ratio; returns {ctx, w, h} in CSS pixels. */
export function fitCanvas(canvas, aspect = 1, height = null) {
  const w = Math.max(120, Math.round(canvas.clientWidth || canvas.parentElement.clientWidth || 300));
  const h = Math.round(height ?? w * aspect);
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** Range [lo, hi] of values, padded by a fraction of its span. */
export function span(values, pad = 0.1) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!Number.isFinite(lo)) return [0, 1];
  const p = (hi - lo) * pad || 1;
  return [lo - p, hi + p];
}

/** A plot area inside (0, 0, w, h) with data ranges; maps data to pixels. */
export function frame(w, h, xRange, yRange, margin = { left: 6, right: 6, top: 6, bottom: 6 }) {
  const left = margin.left, top = margin.top;
  const width = w - margin.left - margin.right, height = h - margin.top - margin.bottom;
  return {
    left, top, width, height, xRange, yRange,
    x: (v) => left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * width,
    y: (v) => top + height - ((v - yRange[0]) / (yRange[1] - yRange[0])) * height,
  };
}

/** Dots coloured by class (classification) or one colour (regression). X: (N, 2) or (N, 1) with Y. */
export function drawPoints(ctx, f, points, { radius = 3.5, regression = false } = {}) {
  for (const [px, py, label] of points) {
    ctx.beginPath();
    ctx.arc(f.x(px), f.y(py), radius, 0, 2 * Math.PI);
    ctx.fillStyle = regression ? "#475569" : classColor(label);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.stroke();
  }
}

/** A thin frame and the range of each axis at its ends. */
export function drawAxes(ctx, f, { xLabel = "", yLabel = "" } = {}) {
  ctx.strokeStyle = "#cbd5e1";
  ctx.lineWidth = 1;
  ctx.strokeRect(f.left + 0.5, f.top + 0.5, f.width - 1, f.height - 1);
  ctx.fillStyle = "#64748b";
  ctx.font = "10px system-ui, sans-serif";
  const fmt = (v) => String(Number(v.toPrecision(2)));
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmt(f.xRange[0]), f.left + 2, f.top + f.height + 2);
  ctx.textAlign = "right";
  ctx.fillText(`${fmt(f.xRange[1])}${xLabel ? " " + xLabel : ""}`, f.left + f.width - 2, f.top + f.height + 2);
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  ctx.fillText(fmt(f.yRange[1]), f.left - 3, f.top);
  ctx.textBaseline = "bottom";
  ctx.fillText(fmt(f.yRange[0]), f.left - 3, f.top + f.height);
  if (yLabel) {
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, f.left - 3, f.top + f.height / 2);
  }
}

/** 28x28 (or any HxW) grey images in a grid, each with its label in the corner. */
export function drawDigits(canvas, images, labels, cols = 8) {
  const n = images.length;
  const rows = Math.ceil(n / cols);
  const H = images[0].length, W = images[0][0].length;
  const boxW = canvas.clientWidth || 320;
  const cell = Math.floor(boxW / cols);
  const { ctx } = fitCanvas(canvas, 0, rows * cell);
  const tile = document.createElement("canvas");
  tile.width = W; tile.height = H;
  const tctx = tile.getContext("2d");
  const img = tctx.createImageData(W, H);
  ctx.imageSmoothingEnabled = false;
  images.forEach((rowsOfPixels, i) => {
    paintInk(img, rowsOfPixels);
    tctx.putImageData(img, 0, 0);
    const x = (i % cols) * cell, y = Math.floor(i / cols) * cell;
    ctx.drawImage(tile, x + 1, y + 1, cell - 2, cell - 2);
    ctx.fillStyle = "#2563eb";
    ctx.font = "bold 10px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(String(labels[i]), x + 3, y + 2);
  });
}

/**
 * Write `rows` ((H, W) values in [0, 1], 1 = ink) into `img` (an ImageData W x H) as dark
 * ink on white, as MNIST digits are shown. Returns the ink: the sum of the clamped values.
 */
export function paintInk(img, rows) {
  const H = rows.length, W = rows[0].length;
  let ink = 0;
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const v = Math.min(1, Math.max(0, rows[r][c]));
      ink += v;
      const g = 255 - Math.round(255 * v);
      const o = 4 * (r * W + c);
      img.data[o] = img.data[o + 1] = img.data[o + 2] = g;
      img.data[o + 3] = 255;
    }
  }
  return ink;
}
