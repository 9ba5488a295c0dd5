// The inspect page: pick a model and one example, then step through its trace stage by
// stage; beside it the numerical gradient check and the test set's confusion matrix.
// Wiring only: api.js fetches; stepper.js, gradcheck.js, confusion.js and pad.js draw.
// URL: ?model=<id>&split=test&index=<i>&stage=<name>&opt=<optimizer>&lr=<lr>

import * as api from "./api.js";
import { createConfusionPanel } from "./confusion.js";
import { el } from "./dom.js";
import { int, pct } from "./format.js";
import { highlightGradRows, renderGradcheck } from "./gradcheck.js";
import { short } from "./heatmap.js";
import { createDrawingPad, showNetworkInput } from "./pad.js";
import { createStepper } from "./stepper.js";

const $ = (sel) => document.querySelector(sel);

const state = {
  models: [],
  model: null, // the record from GET /api/models
  source: "dataset", // or "draw"
  split: "test",
  index: 0,
  optimizer: { name: "sgd", lr: 0.01 },
  trace: null,
  wantedStage: null, // a stage name to land on (from the URL or before a re-trace)
};
let traceSeq = 0;
let confusion, pad, stepper;

// -------------------------------------------------------------------------- messages

function pageMessage(text, link = null) {
  const box = $("#page-message");
  box.replaceChildren(text);
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    box.append(" ", a);
  }
  box.hidden = !text;
}

// -------------------------------------------------------------------------- URL

function readUrl() {
  const q = new URLSearchParams(location.search);
  const index = Number(q.get("index"));
  return {
    model: q.get("model"),
    split: q.get("split") === "train" ? "train" : "test",
    index: Number.isInteger(index) && index >= 0 ? index : 0,
    stage: q.get("stage"),
    opt: q.get("opt"),
    lr: Number(q.get("lr")) > 0 ? Number(q.get("lr")) : null,
  };
}

function writeUrl() {
  if (!state.model) return;
  const q = new URLSearchParams({ model: state.model.id });
  if (state.source === "dataset") {
    q.set("split", state.split);
    q.set("index", String(state.index));
  }
  const stage = stepper.stage();
  if (stage) q.set("stage", stage.name);
  q.set("opt", state.optimizer.name);
  q.set("lr", String(state.optimizer.lr));
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

// -------------------------------------------------------------------------- model and example

const datasetInfo = () => (state.model && state.model.metrics && state.model.metrics.dataset) || {};
/** [H, W] when the model's inputs are images (its dataset's input_shape), else null. */
function imageShape() {
  const shape = datasetInfo().input_shape;
  return Array.isArray(shape) && shape.length === 2 ? shape : null;
}
const splitSize = () => datasetInfo()[`${state.split}_size`] ?? null;

function describeModel(m) {
  const arch = m.architecture;
  const acts = [...new Set(arch.hidden.map((h) => h.activation))].join("/") || "no hidden layer";
  const acc = m.metrics && m.metrics.test && m.metrics.test.accuracy;
  const parts = [`${acts} · ${arch.head.replace("_ce", "").replace("_bce", "")} head`, `${int(m.n_params)} parameters`];
  if (acc !== undefined && acc !== null) parts.push(`test accuracy ${pct(acc)}`);
  return parts.join(" · ");
}

function fillModels() {
  const select = $("#model");
  select.replaceChildren(...state.models.map((m) => {
    const o = document.createElement("option");
    o.value = m.id;
    o.textContent = `${m.name} · ${m.id}`;
    return o;
  }));
}

function showModel() {
  const m = state.model;
  $("#model").value = m.id;
  $("#model-info").textContent = describeModel(m);
  const image = imageShape() !== null;
  $("#draw-choice").hidden = !image;
  if (!image && state.source === "draw") setSource("dataset");
  const classes = datasetInfo().classes;
  const label = $("#draw-label");
  if (image && classes && classes.length === 10) {
    label.replaceChildren(...classes.map((c, i) => el("option", { value: String(i), text: String(c) })));
  }
  showSplitSize();
}

function showSplitSize() {
  const n = splitSize();
  const index = $("#index");
  if (n) {
    index.max = String(n - 1);
    $("#split-size").textContent = `The ${state.split} split has ${int(n)} examples, 0 to ${int(n - 1)}.`;
  } else {
    index.removeAttribute("max");
    $("#split-size").textContent = "";
  }
  $("#prev-example").disabled = state.index <= 0;
  $("#next-example").disabled = n !== null && state.index >= n - 1;
}

function setSource(source) {
  state.source = source;
  for (const r of document.querySelectorAll('input[name="source"]')) r.checked = r.value === source;
  $("#dataset-source").hidden = source !== "dataset";
  $("#draw-source").hidden = source !== "draw";
}

async function chooseModel(id, { keepExample = false } = {}) {
  const m = state.models.find((x) => x.id === id);
  if (!m) return;
  state.model = m;
  if (!keepExample) { state.index = 0; state.split = "test"; }
  $("#split").value = state.split;
  $("#index").value = String(state.index);
  showModel();
  await Promise.all([runTrace(), confusion.load(m, imageShape())]);
}

// -------------------------------------------------------------------------- the trace

function traceBody() {
  const body = { optimizer: { name: state.optimizer.name, lr: state.optimizer.lr } };
  if (state.source === "draw") {
    body.image = $("#pad").toDataURL("image/png");
    body.label = Number($("#draw-label").value);
  } else {
    body.dataset_index = state.index;
    body.split = state.split;
  }
  return body;
}

async function runTrace() {
  if (!state.model) return;
  const seq = ++traceSeq;
  const error = $("#trace-error");
  error.textContent = "";
  $("#stage").setAttribute("aria-busy", "true");
  const keep = state.wantedStage || (stepper.stage() && stepper.stage().name);
  try {
    const trace = await api.trace(state.model.id, traceBody());
    if (seq !== traceSeq) return; // a newer request is on its way
    state.trace = trace;
    state.wantedStage = null;
    const stage = $("#stage");
    stage.dataset.model = state.model.id;
    stage.dataset.example = trace.source.kind === "dataset" ? `${trace.source.split}:${trace.source.index}` : trace.source.kind;
    renderGradcheck($("#gradcheck tbody"), trace.gradient_check);
    renderResult();
    confusion.markTraced(trace.source);
    const input = trace.stages[0];
    showNetworkInput($("#pad-input"), trace.source.kind === "image" && input.image ? input.image : null);
    stepper.setTrace(trace, keep);
  } catch (err) {
    if (seq !== traceSeq) return;
    error.textContent = err.detail || String(err);
  } finally {
    if (seq === traceSeq) $("#stage").removeAttribute("aria-busy");
  }
}

function renderResult() {
  const t = state.trace;
  const out = t.stages.find((s) => s.name === "output");
  const cls = (k) => (t.classes && t.classes[k] !== undefined ? t.classes[k] : String(k));
  const parts = [];
  if (t.source.kind === "dataset") parts.push(`${t.source.split} example ${t.source.index}`);
  else parts.push(t.source.kind === "image" ? "your drawing" : "your input");
  if (t.model.task === "regression") {
    parts.push(`target ${JSON.stringify(t.label)}`, `ŷ ${JSON.stringify(t.prediction.map((v) => short(v, 4)))}`);
  } else {
    const right = t.prediction === t.label;
    parts.push(`label ${cls(t.label)}`, `predicted ${cls(t.prediction)} (p = ${short(out.confidence, 3)}) ${right ? "✓" : "✗"}`);
  }
  parts.push(`loss ${short(t.loss, 4)} → ${short(t.loss_after_step, 4)} after one ${state.optimizer.name} step`);
  $("#result-line").textContent = parts.join(" · ");
}

// -------------------------------------------------------------------------- drawing pad

function setupPad() {
  pad = createDrawingPad($("#pad"), {
    onChange() {
      $("#undo-pad").disabled = $("#clear-pad").disabled = pad.isEmpty();
      showNetworkInput($("#pad-input"), null); // it showed the drawing as last traced
    },
  });
  $("#undo-pad").addEventListener("click", pad.undo);
  $("#clear-pad").addEventListener("click", pad.clear);
  $("#trace-drawing").addEventListener("click", () => {
    if (pad.isEmpty()) {
      $("#trace-error").textContent = "Draw a digit on the pad first.";
      return;
    }
    runTrace();
  });
}

// -------------------------------------------------------------------------- wiring

function setExample(index) {
  const n = splitSize();
  state.index = Math.max(0, n ? Math.min(n - 1, index) : index);
  $("#index").value = String(state.index);
  showSplitSize();
  runTrace();
}

function wire() {
  $("#model").addEventListener("change", (e) => chooseModel(e.target.value));
  for (const r of document.querySelectorAll('input[name="source"]')) {
    r.addEventListener("change", () => {
      setSource(r.value);
      if (r.value === "dataset") runTrace();
    });
  }
  $("#split").addEventListener("change", (e) => { state.split = e.target.value; setExample(state.index); });
  $("#index").addEventListener("change", (e) => {
    const v = Math.round(Number(e.target.value));
    if (Number.isFinite(v)) setExample(v);
  });
  $("#prev-example").addEventListener("click", () => setExample(state.index - 1));
  $("#next-example").addEventListener("click", () => setExample(state.index + 1));
  $("#random-example").addEventListener("click", () => setExample(Math.floor(Math.random() * (splitSize() || 1))));
  $("#optimizer").addEventListener("change", (e) => { state.optimizer.name = e.target.value; runTrace(); });
  $("#lr").addEventListener("change", (e) => {
    const lr = Number(e.target.value);
    if (!(lr > 0)) {
      $("#trace-error").textContent = "The learning rate must be a number greater than 0.";
      e.target.setAttribute("aria-invalid", "true");
      return;
    }
    e.target.removeAttribute("aria-invalid");
    state.optimizer.lr = lr;
    runTrace();
  });
  stepper = createStepper({
    features: () => datasetInfo().feature_names,
    onShow(stage) {
      highlightGradRows($("#gradcheck tbody"), stage.param);
      writeUrl();
    },
  });
  setupPad();
  confusion = createConfusionPanel({
    panel: $("#confusion-panel"), table: $("#confusion"), summary: $("#confusion-summary"), message: $("#confusion-message"),
    gallery: $("#gallery"), filter: $("#gallery-filter"), more: $("#gallery-more"),
  }, { onPick: openExample });
}

/** Step through example `index` of `split` (a mistake picked in the gallery). */
async function openExample(split, index) {
  setSource("dataset");
  state.split = split;
  $("#split").value = split;
  state.index = index;
  $("#index").value = String(index);
  showSplitSize();
  await runTrace();
  $("#stage").scrollIntoView({ block: "start", behavior: "smooth" });
  $("#stage").focus({ preventScroll: true });
}

async function start() {
  const main = $("#main");
  wire();
  const url = readUrl();
  state.split = url.split;
  state.index = url.index;
  state.wantedStage = url.stage;
  try {
    const [{ choices }, models] = await Promise.all([api.getSpec(), api.listModels()]);
    const select = $("#optimizer");
    select.replaceChildren(...choices.optimizer.map((o) => new Option(o, o)));
    if (url.opt && choices.optimizer.includes(url.opt)) state.optimizer.name = url.opt;
    if (url.lr) state.optimizer.lr = url.lr;
    select.value = state.optimizer.name;
    $("#lr").value = String(state.optimizer.lr);
    state.models = models;
  } catch (err) {
    pageMessage(`Cannot list the models: ${err.detail || err}`);
    main.dataset.ready = "true";
    return;
  }
  if (!state.models.length) {
    pageMessage("There is no trained model yet. Train one on the playground page, then come back here to look inside it.",
      { href: "/", text: "Go to the playground →" });
    main.classList.add("empty");
    main.dataset.ready = "true";
    return;
  }
  fillModels();
  let id = url.model;
  if (id && !state.models.some((m) => m.id === id)) {
    pageMessage(`There is no model with id "${id}" (it may have been deleted); showing the newest model instead.`);
    id = null;
  }
  await chooseModel(id || state.models[0].id, { keepExample: !!id });
  main.dataset.ready = "true";
}

start();
