// The draw panel: the learner draws a digit, a trained MNIST model classifies it
// while they draw, and the panel shows why: the 28x28 image the network gets,
// all ten probabilities and every hidden layer's activations as a heat map.
//
// The pad (pad.js) keeps the strokes; predictions go out through a throttle: at most
// one request in flight and at most one every PREDICT_INTERVAL_MS.

import { createActivationGrids } from "./activation_grid.js";
import * as api from "./api.js";
import { el } from "./dom.js";
import { ACTIVE, pct, runLabel, widths } from "./format.js";
import { createDrawingPad, showNetworkInput } from "./pad.js";
import { followRun } from "./run_follower.js";
import { createThrottle } from "./throttle.js";

const PREDICT_INTERVAL_MS = 100;
const BLANK_HINT = "Draw a digit in the box: the network guesses as you draw.";
const NO_MODEL_HINT = "You can draw already: the guess appears once a model is ready.";
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/** The quick model: the mnist-default preset (GET /api/presets) with fewer epochs (see trainHint). */
const QUICK_PRESET = "mnist-default";
const QUICK_EPOCHS = 2;

/** "mnist 784-512-10 · 97.1% test · 14:05" for the picker. */
function modelLabel(model, now = new Date()) {
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
 * root: the #draw section of templates/_draw.html.
 * presets: GET /api/presets (for the quick model's spec); mnist: MNIST's entry in GET /api/datasets.
 * onRunChange(): the quick run was created here or changed status (the page refreshes its run list).
 * Returns {refreshModels(selectId?), redraw()}.
 */
export function createDrawPanel(root, { presets = [], mnist, onRunChange = () => {} } = {}) {
  const $ = (id) => root.querySelector(`#${id}`);
  const canvas = $("draw-canvas");
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
  const grids = createActivationGrids($("draw-layers"));

  const preset = presets.find((p) => p.name === QUICK_PRESET);
  const quickSpec = preset && { ...preset.spec, epochs: Math.min(QUICK_EPOCHS, preset.spec.epochs) };

  let models = [];          // GET /api/models?dataset=mnist, newest first
  let modelId = "";         // the model on view
  let userPicked = false;   // the learner chose a model: keep it when the list refreshes
  let last = null;          // the last prediction shown: {model, response}
  let follower = null;      // the quick run's event stream

  // -- the drawing ---------------------------------------------------------------
  const pad = createDrawingPad(canvas, { brush: () => Number(brush.value), onChange: drawingChanged });
  undoButton.addEventListener("click", pad.undo);
  clearButton.addEventListener("click", pad.clear);
  brush.addEventListener("input", () => { brushValue.textContent = brush.value; });

  // -- predictions ------------------------------------------------------------------
  let announceNext = false;

  function drawingChanged({ final = false } = {}) {
    undoButton.disabled = clearButton.disabled = pad.isEmpty();
    if (final) announceNext = true;
    if (pad.isEmpty()) {
      throttle.cancel();
      showBlank();
      return;
    }
    if (modelId) throttle.request();
  }

  const throttle = createThrottle(async () => {
    if (pad.isEmpty() || !modelId) return;
    const model = modelId;
    const url = canvas.toDataURL("image/png");
    const wasFinal = announceNext;
    try {
      const response = await api.predictImage(model, url);
      if (model !== modelId || pad.isEmpty()) return; // stale: the model or drawing changed
      showPrediction(model, response, wasFinal && !pad.drawing);
    } catch (err) {
      if (model !== modelId) return;
      if (err.status === 422 && /blank/.test(err.detail)) showBlank();
      else if (err.status === 404) {
        status.textContent = "That model is gone; picking another.";
        refreshModels();
      } else status.textContent = `Could not classify the drawing: ${err.detail}`;
    }
  }, { intervalMs: PREDICT_INTERVAL_MS });

  function showBlank() {
    last = null;
    root.dataset.predicted = "false";
    digitOut.textContent = "–";
    digitOut.dataset.digit = "";
    confidence.textContent = "";
    status.textContent = root.dataset.state === "empty" ? NO_MODEL_HINT : BLANK_HINT;
    setBars(null);
    showNetworkInput(inputCanvas, null);
    showLayers(null);
    if (announceNext) { announce.textContent = "The drawing is empty."; announceNext = false; }
  }

  const current = () => models.find((x) => x.id === modelId);

  /** The model's class names (an imported model's may be anything: they are shown as text only). */
  function classes() {
    const m = current();
    const c = m && m.metrics && m.metrics.dataset && m.metrics.dataset.classes;
    return Array.isArray(c) && c.length ? c.map(String) : DIGITS;
  }

  function showPrediction(model, response, speak) {
    last = { model, response };
    const p = response.probabilities[0];
    const k = response.predictions[0];
    const label = response.labels ? String(response.labels[0]) : String(k);
    digitOut.textContent = label;
    digitOut.dataset.digit = label;
    confidence.textContent = `${pct(p[k])} sure`;
    status.textContent = "";
    root.dataset.predicted = "true";
    setBars(p, k);
    showNetworkInput(inputCanvas, response.input);
    showLayers(response.activations[0]);
    if (speak || announceNext) {
      announce.textContent = `The network reads ${label}, ${pct(p[k])} sure.`;
      announceNext = false;
    }
  }

  // -- the ten probabilities --------------------------------------------------------
  function buildBars() {
    probs.replaceChildren(...classes().map((name) => el("li", { "data-digit": name },
      el("span", { class: "prob-value" }),
      el("span", { class: "prob-track" }, el("span", { class: "prob-fill" })),
      el("span", { class: "prob-digit", text: name }))));
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

  // -- hidden-layer heat maps ---------------------------------------------------------
  function showLayers(activations) {
    const m = current();
    grids.show(modelId, (m && m.architecture && m.architecture.hidden) || [], activations);
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
    grids.reset();
    probs.replaceChildren();
    if (!pad.isEmpty()) drawingChanged({ final: true });
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
    modelSelect.replaceChildren(...list.map((m) => el("option", { value: m.id, text: modelLabel(m) })));
    if (!list.length) {
      modelSelect.append(el("option", { value: "", text: "No MNIST model yet" }));
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
  const quickLabel = preset ? runLabel(preset.spec, mnist) : "";
  if (mnist && !mnist.available) {
    emptyBox.querySelector("p").replaceChildren(el("strong", { text: "No MNIST model yet," }), " and none can be trained here.");
    trainButton.disabled = true;
    trainHint.textContent = "This server has no MNIST files, so no MNIST model can be trained here: "
      + "point the MLP_MNIST_DIR setting at a folder holding the four MNIST .gz files and restart it.";
  } else if (preset) {
    const spec = preset.spec;
    const acts = [...new Set(spec.layers.map((l) => l.activation))].join("/");
    trainHint.textContent = `Trains the ${QUICK_PRESET} preset (${widths(spec, mnist).join("-")} ${acts}, ${spec.optimizer.name}, `
      + `${spec.schedule ? spec.schedule.name : "constant"} schedule, dropout ${spec.dropout ?? 0}) for ${quickSpec.epochs} epochs `
      + `instead of ${spec.epochs}: about 97–98% test accuracy in 10–30 seconds, enough to read drawn digits. `
      + "For the full preset (~98%), choose it under Presets and press Train.";
  } else {
    trainButton.hidden = true;
    trainHint.textContent = `This server has no ${QUICK_PRESET} preset: train an MNIST model with the builder, then draw.`;
  }

  function followQuickRun(record) {
    if (follower) follower.close();
    trainBox.hidden = false;
    trainButton.disabled = true;
    trainError.textContent = "";
    root.dataset.training = record.id;
    trainText.textContent = "waiting for a worker…";
    trainBar.value = 0;
    follower = followRun(record, quickLabel, {
      status(state, sentence) {
        onRunChange();
        trainText.textContent = sentence;
      },
      progress(p) {
        trainBar.value = Math.max(trainBar.value, p.runDone);
        trainText.textContent = `epoch ${p.epoch} / ${record.epochs_total} · ${p.text}`;
      },
      end(state, sentence, data) {
        follower = null;
        root.dataset.training = "";
        onRunChange();
        trainButton.disabled = false;
        if (state === "completed") {
          trainBar.value = 1;
          trainText.textContent = sentence;
          const acc = data.test_metrics && data.test_metrics.accuracy;
          refreshModels(data.model_id).then(() => {
            status.textContent = pad.isEmpty() ? `Model ready${acc !== undefined ? ` (${pct(acc)} on MNIST's test set)` : ""}. ${BLANK_HINT}` : "";
          });
        } else {
          trainBox.hidden = true;
          trainError.textContent = `${sentence} Press the button to try again.`;
        }
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
    showLayers(last ? last.response.activations[0] : null);
  }

  drawingChanged();
  refreshModels();
  return { refreshModels, redraw };
}
