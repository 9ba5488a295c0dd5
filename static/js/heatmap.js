// Numbers as pictures: matrices as heat maps, vectors as bars. Each picture tells its exact
// values: hover a cell or a bar (the canvas `title` and a readout callback get
// "W1[3, 2] = 0.123456"), or focus the canvas with Tab and move with the arrow keys.
// No fetch; the only DOM is the canvas or element each function is given or returns.

const POS = [29, 78, 216]; // blue: positive
const NEG = [194, 65, 12]; // orange: negative
const WHITE = [255, 255, 255];

/** Blend white -> colour by t in [0, 1]. */
function blend(rgb, t) {
  return rgb.map((c, i) => Math.round(WHITE[i] + (c - WHITE[i]) * t));
}

/** Diverging colour of v on the scale ±maxAbs: blue above 0, orange below, white at 0. */
export function divergingColor(v, maxAbs) {
  if (!maxAbs || !Number.isFinite(v)) return WHITE;
  const t = Math.max(-1, Math.min(1, v / maxAbs));
  return t >= 0 ? blend(POS, t) : blend(NEG, -t);
}

/** Ink on paper: 0 white, 1 black (how MNIST digits are shown). */
export function inkColor(v) {
  const g = 255 - Math.round(255 * Math.max(0, Math.min(1, v)));
  return [g, g, g];
}

const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

/** The value as written by the server, all its digits. */
export const exact = (v) => (typeof v === "number" ? String(v) : "–");

/** A short number for labels: 3-4 significant digits, exponent when tiny or huge. */
export function short(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-4 || a >= 1e5) return v.toExponential(Math.max(0, digits - 2));
  return String(Number(v.toPrecision(digits)));
}

function maxAbsOf(rows) {
  let m = 0;
  for (const row of rows) for (const v of row) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** Size a canvas to w x h CSS pixels at the device pixel ratio; returns its context. */
function sized(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(w * dpr));
  canvas.height = Math.max(1, Math.round(h * dpr));
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Hover and arrow-key reading of a picture made of cells. `cellAt(x, y)` -> [r, c] or null;
 *  `describe(r, c)` -> text; `mark(r, c)` redraws with that cell outlined (null: none). */
function readable(canvas, { rows, cols, cellAt, describe, mark, readout }) {
  let cursor = null;
  const show = (rc) => {
    cursor = rc;
    mark(rc);
    if (!rc) return;
    const text = describe(rc[0], rc[1]);
    canvas.title = text;
    canvas.dataset.hover = text;
    if (readout) readout(text);
  };
  canvas.addEventListener("pointermove", (e) => {
    const box = canvas.getBoundingClientRect();
    const rc = cellAt(e.clientX - box.left, e.clientY - box.top);
    if (rc && (!cursor || rc[0] !== cursor[0] || rc[1] !== cursor[1])) show(rc);
  });
  canvas.addEventListener("pointerleave", () => mark(null));
  canvas.tabIndex = 0;
  canvas.addEventListener("focus", () => show(cursor || [0, 0]));
  canvas.addEventListener("blur", () => mark(null));
  canvas.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const d = moves[e.key];
    if (!d) return;
    e.preventDefault();
    e.stopPropagation(); // the page's ← → step through the stages everywhere else
    const [r, c] = cursor || [0, 0];
    show([Math.max(0, Math.min(rows - 1, r + d[0])), Math.max(0, Math.min(cols - 1, c + d[1]))]);
  });
}

/**
 * A matrix (rows of numbers) as a heat map.
 *
 * opts: name ("W1", shown in the readout), scale ("diverging" | "ink"), maxWidth, maxHeight,
 * cellMax (largest cell side, px), square (square cells), readout(text), hover (default true),
 * rowName / colName (what an index means, for the readout), maxAbs (shared colour scale).
 * Small cells get their value written in. Returns {maxAbs, rows, cols}.
 */
export function heatMap(canvas, matrix, opts = {}) {
  const R = matrix.length, C = matrix[0].length;
  const scale = opts.scale || "diverging";
  const maxAbs = opts.maxAbs ?? maxAbsOf(matrix);
  const avail = Math.min(opts.maxWidth ?? 560, (canvas.parentElement && canvas.parentElement.clientWidth) || 560);
  const cw = Math.max(1, Math.min(opts.cellMax ?? 48, Math.floor(avail / C)));
  const ch = opts.square ? cw : Math.max(1, Math.min(cw, Math.floor((opts.maxHeight ?? 320) / R)));
  const w = cw * C, h = ch * R;
  const ctx = sized(canvas, w, h);
  // One pixel per cell, scaled up without smoothing.
  const tile = document.createElement("canvas");
  tile.width = C; tile.height = R;
  const tctx = tile.getContext("2d");
  const img = tctx.createImageData(C, R);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = matrix[r][c];
      const rgb = scale === "ink" ? inkColor(v) : divergingColor(v, maxAbs);
      const o = 4 * (r * C + c);
      img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
    }
  }
  tctx.putImageData(img, 0, 0);
  const writeIn = cw >= 44 && ch >= 18;
  const draw = (marked) => {
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(tile, 0, 0, w, h);
    if (writeIn) {
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          const v = matrix[r][c];
          const strong = scale === "ink" ? v > 0.5 : Math.abs(v) > 0.55 * maxAbs;
          ctx.fillStyle = strong ? "#fff" : "#0f172a";
          ctx.fillText(short(v), c * cw + cw / 2, r * ch + ch / 2, cw - 4);
        }
      }
    }
    if (cw >= 6 && ch >= 6 && R * C <= 4096) { // cell borders where they are visible
      ctx.strokeStyle = "rgba(148, 163, 184, 0.35)";
      ctx.lineWidth = 1;
      ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
    }
    if (marked) {
      ctx.strokeStyle = "#0f172a";
      ctx.lineWidth = 2;
      ctx.strokeRect(marked[1] * cw + 1, marked[0] * ch + 1, Math.max(2, cw - 2), Math.max(2, ch - 2));
    }
  };
  draw(null);
  canvas.dataset.rows = String(R);
  canvas.dataset.cols = String(C);
  if (opts.hover !== false) {
    const name = opts.name || "value";
    readable(canvas, {
      rows: R, cols: C, readout: opts.readout, mark: draw,
      cellAt: (x, y) => (x < 0 || y < 0 || x >= w || y >= h ? null : [Math.floor(y / ch), Math.floor(x / cw)]),
      describe: (r, c) => {
        const where = opts.rowName ? ` (${opts.rowName} ${r}, ${opts.colName} ${c})` : "";
        return `${name}[${r}, ${c}] = ${exact(matrix[r][c])}${where}`;
      },
    });
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${name}: ${R} by ${C} heat map; focus and use the arrow keys to read values`);
  }
  return { maxAbs, rows: R, cols: C };
}

/**
 * A vector as bars around a zero line (blue up, orange down).
 *
 * opts: name ("z1"), labels (per bar), highlight (indices drawn darker and marked),
 * mask (booleans: false bars greyed, e.g. ReLU's zero units), height, readout(text).
 */
export function bars(canvas, values, opts = {}) {
  const n = values.length;
  const w = Math.max(160, Math.round((canvas.parentElement && canvas.parentElement.clientWidth) || 400));
  const h = opts.height ?? 110;
  const ctx = sized(canvas, w, h);
  let lo = 0, hi = 0;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (hi === lo) hi = lo + 1;
  const pad = 4;
  const y = (v) => pad + (hi - v) / (hi - lo) * (h - 2 * pad);
  const y0 = y(0);
  const bw = w / n;
  const highlight = new Set(opts.highlight || []);
  const draw = (marked) => {
    ctx.clearRect(0, 0, w, h);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const off = opts.mask && !opts.mask[i];
      let rgb = v >= 0 ? POS : NEG;
      if (!highlight.has(i) && highlight.size) rgb = blend(rgb, 0.55);
      ctx.fillStyle = off ? "#cbd5e1" : css(rgb);
      const top = Math.min(y(v), y0), height = Math.max(1, Math.abs(y(v) - y0));
      const gap = bw > 4 ? 1 : 0;
      ctx.fillRect(i * bw + gap / 2, top, Math.max(1, bw - gap), height);
      if (highlight.has(i)) {
        ctx.fillStyle = "#0f172a";
        ctx.beginPath();
        ctx.moveTo(i * bw + bw / 2, h - 1);
        ctx.lineTo(i * bw + bw / 2 - 4, h - 7);
        ctx.lineTo(i * bw + bw / 2 + 4, h - 7);
        ctx.fill();
      }
    }
    ctx.strokeStyle = "#94a3b8";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, Math.round(y0) + 0.5);
    ctx.lineTo(w, Math.round(y0) + 0.5);
    ctx.stroke();
    ctx.fillStyle = "#64748b";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText(short(hi), w - 2, 1);
    ctx.textBaseline = "bottom";
    ctx.fillText(short(lo), w - 2, h - 1);
    if (marked) {
      ctx.strokeStyle = "#0f172a";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(marked[1] * bw + 0.75, 1, Math.max(2, bw - 1.5), h - 2);
    }
  };
  draw(null);
  canvas.dataset.bars = String(n);
  const name = opts.name || "v";
  readable(canvas, {
    rows: 1, cols: n, readout: opts.readout, mark: draw,
    cellAt: (x) => (x < 0 || x >= w ? null : [0, Math.min(n - 1, Math.floor(x / bw))]),
    describe: (_, i) => `${name}[${i}] = ${exact(values[i])}${opts.labels ? ` (${opts.labels[i]})` : ""}`,
  });
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${name}: ${n} values as bars; focus and use the arrow keys to read them`);
}

/**
 * A short vector as labelled HTML bars with the numbers written out (softmax, a few units).
 * opts: name, labels, highlight (indices), marks ({index: "predicted"}), signed.
 * The element carries data-sum (the sum of the values) and data-count.
 */
export function barList(values, opts = {}) {
  const list = document.createElement("div");
  list.className = "barlist";
  const signed = opts.signed ?? values.some((v) => v < 0);
  const maxAbs = Math.max(...values.map(Math.abs)) || 1;
  const highlight = new Set(opts.highlight || []);
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    const row = document.createElement("div");
    row.className = "bar-row" + (highlight.has(i) ? " hl" : "");
    const label = opts.labels ? opts.labels[i] : String(i);
    row.title = `${opts.name || "v"}[${i}] = ${exact(v)}`;
    const fill = document.createElement("span");
    fill.className = "bar-fill" + (v < 0 ? " neg" : "");
    const pct = (100 * Math.abs(v)) / (opts.scale || maxAbs);
    if (signed) {
      fill.style.width = `${pct / 2}%`;
      fill.style.left = v < 0 ? `${50 - pct / 2}%` : "50%";
    } else {
      fill.style.width = `${pct}%`;
    }
    const track = document.createElement("span");
    track.className = "bar-track" + (signed ? " signed" : "");
    track.append(fill);
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = short(v, 4);
    const mark = document.createElement("span");
    mark.className = "bar-mark";
    mark.textContent = (opts.marks && opts.marks[i]) || "";
    row.append(name, track, value, mark);
    list.append(row);
  });
  list.dataset.sum = String(sum);
  list.dataset.count = String(values.length);
  return list;
}
