// The draw panel: the learner draws a digit, a trained MNIST model classifies it
// while they draw, and the panel shows why: the 28x28 image the network gets,
// all ten probabilities and every hidden layer's activations as a heat map.
//
// Strokes are kept as point lists (in the canvas's 280x280 pixels), so Undo
// drops the last one and redraws. Predictions go out through a throttle: at most
// one request in flight and at most one every PREDICT_INTERVAL_MS.

import * as api from "./api.js";
import { gridShape, heatColor, layerStats, createThrottle, modelLabel } from "./digits.js";
import { ACTIVE, duration, int, num, pct } from "./format.js";

const PREDICT_INTERVAL_MS = 100;
const INK = "#0f172a";
const BLANK_HINT = "Draw a digit in the box: the network guesses as you draw.";
const NO_MODEL_HINT = "You can draw already: the guess appears once a model is ready.";
/** The quick model: the mnist-default preset with fewer epochs (see trainHint). */
const QUICK_PRESET = "mnist-default";
const QUICK_EPOCHS = 2;
const QUICK_FALLBACK = {
  dataset: "mnist", layers: [{ units: 512, activation: "relu" }], optimizer: { name: "adam", lr: 0.001 },
  schedule: { name: "cosine" }, dropout: 0.2, epochs: 10, batch_size: 64,
};
const MAX_CELL = 18;  // px: the largest heat-map cell
const MIN_CELL = 4;

/**
 * root: the #draw section of templates/_draw.html.
 * presets: GET /api/presets (for the quick model's spec).
 * onRunChange(): the quick run was created here or changed status (the page refreshes its run list).
 * Returns {refreshModels(selectId?), redraw()}.
 */
export function createDrawPanel(root, { presets = [], onRunChange = () => {} } = {}) {
  const $ = (id) => root.querySelector(`#${id}`);
  const canvas = $("draw-canvas");
  const ctx = canvas.getContext("2d");
  const inputCanvas = $("draw-input");
  const modelSelect = $("draw-model");
  const brush = $("draw-brush");
  const brushValue = $("draw-brush-value");
  const undoButton = $("draw-undo");
  const clearButton = $("draw-clear");
  const prediction = $("draw-prediction");
  const digitOut = $("draw-digit");
  const confidence = $("draw-confidence");
  const probs = $("draw-probs");
  const status = $("draw-status");
  const announce = $("draw-announce");
  const emptyBox = $("draw-empty");
  const trainButton = $("draw-train");
  const trainHint = $("draw-train-hint");
  const trainBox = $("draw-train-box");
  const trainBar = $("draw-train-progress");
  const trainText = $("draw-train-text");
  const trainError = $("draw-train-error");
  const activationsBox = $("draw-activations");
  const layersBox = $("draw-layers");

  const preset = presets.find((p) => p.name === QUICK_PRESET);
  const baseSpec = preset ? preset.spec : QUICK_FALLBACK;
  const quickSpec = { ...baseSpec, epochs: Math.min(QUICK_EPOCHS, baseSpec.epochs || QUICK_EPOCHS) };

  let models = [];          // GET /api/models?dataset=mnist, newest first
  let modelId = "";         // the model on view
  let userPicked = false;   // the learner chose a model: keep it when the list refreshes
  const strokes = [];       // [{size, points: [[x, y], ...]}] in canvas pixels
  let active = null;        // {pointerId, stroke} while a stroke is drawn
  let last = null;          // the last prediction shown: {model, response}
  let follower = null;      // the quick run's event stream

  // -- the drawing ---------------------------------------------------------------
  function paintStroke(stroke) {
    const pts = stroke.points;
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = stroke.size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0][0], pts[0][1], stroke.size / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    ctx.moveTo(pts[0][0], pts[0][1]);
    for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.stroke();
  }

  function redrawStrokes() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const s of strokes) paintStroke(s);
    canvas.dataset.strokes = String(strokes.length);
    undoButton.disabled = clearButton.disabled = strokes.length === 0;
  }

  function pointFrom(event) {
    const rect = canvas.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * canvas.width;
    const y = ((event.clientY - rect.top) / rect.height) * canvas.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (active || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    canvas.focus({ preventScroll: true }); // so that Ctrl+Z reaches it
    canvas.setPointerCapture(event.pointerId);
    const stroke = { size: Number(brush.value), points: [pointFrom(event)] };
    active = { pointerId: event.pointerId, stroke };
    strokes.push(stroke);
    redrawStrokes();
    drawingChanged();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!active || event.pointerId !== active.pointerId) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const pts = active.stroke.points;
    const from = pts[pts.length - 1];
    for (const e of (events.length ? events : [event])) pts.push(pointFrom(e));
    // extend the stroke on screen by the new segment(s) only
    ctx.strokeStyle = INK;
    ctx.lineWidth = active.stroke.size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    for (let i = pts.length - (events.length || 1); i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.stroke();
    drawingChanged();
  });

  function endStroke(event) {
    if (!active || event.pointerId !== active.pointerId) return;
    active = null;
    drawingChanged({ final: true });
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  function undo() {
    if (active || !strokes.length) return;
    strokes.pop();
    redrawStrokes();
    drawingChanged({ final: true });
  }

  function clear() {
    if (active) return;
    strokes.length = 0;
    redrawStrokes();
    drawingChanged({ final: true });
  }

  canvas.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    }
  });
  undoButton.addEventListener("click", undo);
  clearButton.addEventListener("click", clear);
  brush.addEventListener("input", () => { brushValue.textContent = brush.value; });

  // -- predictions ------------------------------------------------------------------
  let announceNext = false;

  function drawingChanged({ final = false } = {}) {
    if (final) announceNext = true;
    if (!strokes.length) {
      throttle.cancel();
      showBlank();
      return;
    }
    if (modelId) throttle.request();
  }

  const throttle = createThrottle(async () => {
    if (!strokes.length || !modelId) return;
    const model = modelId;
    const url = canvas.toDataURL("image/png");
    const wasFinal = announceNext;
    try {
      const response = await api.predictImage(model, url);
      if (model !== modelId || !strokes.length) return; // stale: the model or drawing changed
      showPrediction(model, response, wasFinal && !active);
    } catch (err) {
      if (model !== modelId) return;
      if (err.status === 422 && /blank/.test(err.detail)) showBlank();
      else if (err.status === 404) {
        status.textContent = "That model is gone; picking another.";
        refreshModels();
      } else status.textContent = `Could not classify the drawing: ${err.detail}`;
    }
  }, PREDICT_INTERVAL_MS);

  function showBlank() {
    last = null;
    root.dataset.predicted = "false";
    digitOut.textContent = "–";
    digitOut.dataset.digit = "";
    confidence.textContent = "";
    status.textContent = root.dataset.state === "empty" ? NO_MODEL_HINT : BLANK_HINT;
    setBars(null);
    drawInput(null);
    drawLayers(null);
    if (announceNext) { announce.textContent = "The drawing is empty."; announceNext = false; }
  }

  function classes() {
    const m = models.find((x) => x.id === modelId);
    const c = m && m.metrics && m.metrics.dataset && m.metrics.dataset.classes;
    return c && c.length ? c : ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
  }

  function showPrediction(model, response, speak) {
    last = { model, response };
    const p = response.probabilities[0];
    const k = response.predictions[0];
    const label = response.labels ? response.labels[0] : String(k);
    digitOut.textContent = label;
    digitOut.dataset.digit = label;
    confidence.textContent = `${pct(p[k])} sure`;
    status.textContent = "";
    root.dataset.predicted = "true";
    setBars(p, k);
    drawInput(response.input);
    drawLayers(response.activations[0]);
    if (speak || announceNext) {
      announce.textContent = `The network reads ${label}, ${pct(p[k])} sure.`;
      announceNext = false;
    }
  }

  // -- the ten probabilities --------------------------------------------------------
  function buildBars() {
    probs.replaceChildren();
    for (const name of classes()) {
      const li = document.createElement("li");
      li.dataset.digit = name;
      li.innerHTML = `<span class="prob-value"></span><span class="prob-track"><span class="prob-fill"></span></span><span class="prob-digit">${name}</span>`;
      probs.append(li);
    }
  }

  function setBars(p, top) {
    if (probs.children.length !== classes().length) buildBars();
    [...probs.children].forEach((li, i) => {
      const v = p ? p[i] : 0;
      li.querySelector(".prob-fill").style.height = `${(100 * v).toFixed(1)}%`;
      li.querySelector(".prob-value").textContent = p && v >= 0.005 ? String(Math.round(100 * v)) : "";
      li.classList.toggle("top", p !== null && i === top);
      li.setAttribute("aria-label", `${li.dataset.digit}: ${p ? pct(v) : "no prediction"}`);
    });
  }

  // -- what the network sees ------------------------------------------------------------
  function drawInput(image) {
    const ictx = inputCanvas.getContext("2d");
    ictx.clearRect(0, 0, inputCanvas.width, inputCanvas.height);
    if (!image) {
      inputCanvas.dataset.drawn = "false";
      inputCanvas.dataset.ink = "0";
      return;
    }
    const H = image.length, W = image[0].length;
    if (inputCanvas.width !== W || inputCanvas.height !== H) { inputCanvas.width = W; inputCanvas.height = H; }
    const img = ictx.createImageData(W, H);
    let ink = 0;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const v = Math.min(1, Math.max(0, image[r][c]));
        ink += v;
        const g = 255 - Math.round(255 * v); // dark ink on white, as the dataset preview
        const o = 4 * (r * W + c);
        img.data[o] = img.data[o + 1] = img.data[o + 2] = g;
        img.data[o + 3] = 255;
      }
    }
    ictx.putImageData(img, 0, 0);
    inputCanvas.dataset.drawn = "true";
    inputCanvas.dataset.ink = ink.toFixed(2);
  }

  // -- hidden-layer heat maps ---------------------------------------------------------------
  function architecture() {
    const m = models.find((x) => x.id === modelId);
    return (m && m.architecture && m.architecture.hidden) || [];
  }

  /** One figure per hidden layer; rebuilt when the model changes. */
  function buildLayers() {
    layersBox.replaceChildren();
    architecture().forEach((layer, i) => {
      const { rows, cols } = gridShape(layer.units);
      const fig = document.createElement("figure");
      fig.className = "act-layer";
      fig.innerHTML = `<figcaption><strong>Layer ${i + 1}</strong> · ${int(layer.units)} ${layer.activation} units
        (${rows}×${cols}) · <span class="act-readout" aria-live="off"></span></figcaption>
        <canvas class="act-grid" role="img" data-layer="${i}" data-units="${layer.units}" data-rows="${rows}"
          data-cols="${cols}" data-cells="0" aria-label="Activations of hidden layer ${i + 1}: one cell per unit"></canvas>`;
      const grid = fig.querySelector("canvas");
      const readout = fig.querySelector(".act-readout");
      grid.addEventListener("pointermove", (e) => showUnit(grid, readout, e));
      grid.addEventListener("pointerdown", (e) => showUnit(grid, readout, e));
      grid.addEventListener("pointerleave", () => { readout.textContent = grid.dataset.summary || ""; });
      layersBox.append(fig);
    });
    layersBox.dataset.model = modelId;
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

  function drawLayers(layers) {
    if (layersBox.dataset.model !== modelId) buildLayers();
    const grids = layersBox.querySelectorAll("canvas.act-grid");
    grids.forEach((grid, i) => drawGrid(grid, layers ? layers[i] : null));
  }

  function drawGrid(grid, values) {
    const rows = Number(grid.dataset.rows), cols = Number(grid.dataset.cols);
    const width = layersBox.clientWidth || 300;
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
    const readout = grid.parentElement.querySelector(".act-readout");
    grid.dataset.summary = stats
      ? `${int(stats.active)} of ${int(n)} units fire (output > 0) · largest ${num(stats.max, 3)}`
      : "draw to see them";
    readout.textContent = grid.dataset.summary;
  }

  // -- the model picker -----------------------------------------------------------------
  function setState(state) {
    root.dataset.state = state;
    emptyBox.hidden = state !== "empty";
    prediction.hidden = state !== "ready";
    activationsBox.hidden = state !== "ready";
    modelSelect.disabled = state !== "ready";
  }

  function selectModel(id) {
    const changed = id !== modelId;
    modelId = id;
    modelSelect.value = id;
    if (!changed) return;
    layersBox.dataset.model = "";
    probs.replaceChildren();
    if (strokes.length) drawingChanged({ final: true });
    else showBlank();
  }

  /** Reload the MNIST models; show `selectId` if given, else keep the one on view
   *  (when the learner picked it), else the newest. */
  async function refreshModels(selectId = null) {
    let list;
    try {
      list = await api.listModels("mnist");
    } catch (err) {
      status.textContent = `Could not load the MNIST models: ${err.detail}`;
      return;
    }
    models = list;
    modelSelect.replaceChildren(...list.map((m) => {
      const o = document.createElement("option");
      o.value = m.id;
      o.textContent = modelLabel(m);
      return o;
    }));
    if (!list.length) {
      const o = document.createElement("option");
      o.value = "";
      o.textContent = "No MNIST model yet";
      modelSelect.append(o);
      modelId = "";
      setState("empty");
      showBlank();
      await findRunningQuickModel();
      return;
    }
    const has = (id) => id && list.some((m) => m.id === id);
    let id;
    if (has(selectId)) { id = selectId; userPicked = false; }
    else if (userPicked && has(modelId)) id = modelId;
    else id = list[0].id;
    setState("ready");
    if (id !== modelId) selectModel(id);
    else modelSelect.value = id;
  }

  modelSelect.addEventListener("change", () => {
    userPicked = true;
    selectModel(modelSelect.value);
  });

  // -- no model yet: train a quick one -------------------------------------------------------
  const full = baseSpec.epochs || 10;
  const units = (baseSpec.layers || []).map((l) => l.units).join("-");
  trainHint.textContent = `Trains the ${QUICK_PRESET} preset (784-${units}-10 ReLU, Adam, cosine schedule, `
    + `dropout ${baseSpec.dropout ?? 0}) for ${quickSpec.epochs} epochs instead of ${full}: about 97–98% test accuracy `
    + `in 10–30 seconds, enough to read drawn digits. For the full preset (~98%), choose it under Presets and press Train.`;

  function followQuickRun(record) {
    if (follower) follower.close();
    trainBox.hidden = false;
    trainButton.disabled = true;
    trainError.textContent = "";
    root.dataset.training = record.id;
    const total = record.epochs_total;
    trainText.textContent = "waiting for a worker…";
    trainBar.value = 0;
    follower = api.followRun(record.id, {
      status(data) {
        onRunChange();
        if (data.status === "queued") trainText.textContent = `queued${data.position ? ` (position ${data.position})` : ""}…`;
        else if (data.status === "running") trainText.textContent = "starting…";
      },
      progress(data) {
        const done = (data.epoch - 1 + (data.batches ? data.batch / data.batches : 0)) / total;
        trainBar.value = Math.max(trainBar.value, Math.min(1, done));
        trainText.textContent = `epoch ${data.epoch} / ${total} · batch ${int(data.batch)} / ${int(data.batches)} · ETA ${duration(data.eta_seconds)}`;
      },
      done(data) {
        follower = null;
        root.dataset.training = "";
        onRunChange();
        trainButton.disabled = false;
        if (data.status === "completed") {
          trainBar.value = 1;
          const acc = data.test_metrics && data.test_metrics.accuracy;
          trainText.textContent = `done${acc !== undefined ? `: ${pct(acc)} test accuracy` : ""}`;
          refreshModels(data.model_id).then(() => {
            status.textContent = strokes.length ? "" : `Model ready${acc !== undefined ? ` (${pct(acc)} on MNIST's test set)` : ""}. ${BLANK_HINT}`;
          });
        } else {
          trainBox.hidden = true;
          trainError.textContent = `The run ${data.status}${data.stop_reason ? ` (${data.stop_reason})` : ""}: press the button to try again.`;
        }
      },
      error(data) {
        follower = null;
        root.dataset.training = "";
        onRunChange();
        trainButton.disabled = false;
        trainBox.hidden = true;
        trainError.textContent = `Training failed: ${data.message}`;
      },
      connection(state, text) { if (state !== "open") trainText.textContent = text; },
    });
  }

  /** With no model, an MNIST run that already trains (say, before a reload) will bring one. */
  async function findRunningQuickModel() {
    if (follower) return;
    try {
      const page = await api.listRuns(20);
      const run = page.runs.find((r) => r.dataset === "mnist" && ACTIVE.has(r.status));
      if (run && !follower) followQuickRun(run);
    } catch {
      // not worth a message: the button still works
    }
  }

  trainButton.addEventListener("click", async () => {
    trainButton.disabled = true;
    trainError.textContent = "";
    try {
      const record = await api.createRun(quickSpec);
      followQuickRun(record);
      onRunChange();
    } catch (err) {
      trainButton.disabled = false;
      trainError.textContent = `Not started: ${err.detail}`;
    }
  });

  // -- keep up with the page ----------------------------------------------------------------
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(redraw, 150);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshModels();
  });

  function redraw() {
    if (root.dataset.state !== "ready") return;
    drawLayers(last ? last.response.activations[0] : null);
  }

  redrawStrokes();
  showBlank();
  refreshModels();
  return { refreshModels, redraw };
}
