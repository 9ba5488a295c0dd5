// The inspect page: pick a model and one example, then step through its trace stage by
// stage; beside it the numerical gradient check and the test set's confusion matrix.
// Wiring only: api.js fetches, stages.js and heatmap.js draw.
// URL: ?model=<id>&split=test&index=<i>&stage=<name>&opt=<optimizer>&lr=<lr>

import { paintedPixels } from "./canvas.js";
import { int, pct } from "./format.js";
import { heatMap, short, exact } from "./heatmap.js";
import * as api from "./api.js";
import { PHASES, kindOf, paramName, renderStage, shapesOf, shortOf, titleOf } from "./stages.js";

const $ = (sel) => document.querySelector(sel);
const GALLERY_PAGE = 24;

const state = {
  models: [],
  model: null, // the record from GET /api/models
  source: "dataset", // or "draw"
  split: "test",
  index: 0,
  drawnLabel: null,
  optimizer: { name: "sgd", lr: 0.01 },
  trace: null,
  stage: 0,
  wantedStage: null, // a stage name to land on (from the URL or before a re-trace)
  evaluation: null,
  filter: null, // [true, predicted] of the gallery
  shown: GALLERY_PAGE,
  pixels: new Map(), // dataset index -> 28x28 rows, for the thumbnails
};
let traceSeq = 0;
let evalSeq = 0;

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

const readout = (text) => { $("#hover-readout").textContent = text; };

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
  const stage = state.trace && state.trace.stages[state.stage];
  if (stage) q.set("stage", stage.name);
  q.set("opt", state.optimizer.name);
  q.set("lr", String(state.optimizer.lr));
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

// -------------------------------------------------------------------------- model and example

const isImageModel = () => state.model && state.model.architecture.input_dim === 784;
const datasetInfo = () => (state.model && state.model.metrics && state.model.metrics.dataset) || {};
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
  const image = isImageModel();
  $("#draw-choice").hidden = !image;
  if (!image && state.source === "draw") setSource("dataset");
  const classes = datasetInfo().classes;
  const label = $("#draw-label");
  if (image && classes && classes.length === 10) {
    label.replaceChildren(...classes.map((c, i) => new Option(c, String(i))));
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
  state.pixels.clear();
  showModel();
  await Promise.all([runTrace(), loadEvaluation()]);
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
  const keep = state.wantedStage || (state.trace && state.trace.stages[state.stage] && state.trace.stages[state.stage].name);
  try {
    const trace = await api.trace(state.model.id, traceBody());
    if (seq !== traceSeq) return; // a newer request is on its way
    state.trace = trace;
    state.wantedStage = null;
    const at = trace.stages.findIndex((s) => s.name === keep);
    state.stage = at >= 0 ? at : 0;
    const stage = $("#stage");
    stage.dataset.model = state.model.id;
    stage.dataset.example = trace.source.kind === "dataset" ? `${trace.source.split}:${trace.source.index}` : trace.source.kind;
    renderStageList();
    renderGradcheck();
    renderResult();
    markGallery();
    showStage();
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

function renderStageList() {
  const list = $("#stage-list");
  list.replaceChildren();
  const t = state.trace;
  for (const phase of PHASES) {
    const items = t.stages.map((s, i) => [s, i]).filter(([s]) => s.phase === phase);
    if (!items.length) continue;
    const head = document.createElement("h3");
    head.className = `phase-head phase-${phase}`;
    head.textContent = phase;
    const ol = document.createElement("ol");
    ol.start = items[0][1] + 1;
    ol.className = "stage-items";
    for (const [s, i] of items) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.i = String(i);
      b.dataset.phase = phase;
      b.className = "stage-item";
      const name = document.createElement("span");
      name.className = "stage-name";
      name.textContent = s.name === "loss_after_step" ? "loss after" : s.name;
      const desc = document.createElement("span");
      desc.className = "stage-desc";
      desc.textContent = shortOf(s, t);
      b.append(name, desc);
      b.setAttribute("aria-label", `${i + 1}: ${titleOf(s, t)}`);
      li.append(b);
      ol.append(li);
    }
    list.append(head, ol);
  }
}

function showStage() {
  const t = state.trace;
  if (!t) return;
  const i = state.stage, stage = t.stages[i], n = t.stages.length;
  const panel = $("#stage");
  panel.dataset.stage = stage.name;
  panel.dataset.phase = stage.phase;
  panel.dataset.index = String(i);
  panel.dataset.kind = kindOf(stage, t);
  $("#stage-title").textContent = titleOf(stage, t);
  const badge = $("#stage-phase");
  badge.textContent = stage.phase;
  badge.dataset.phase = stage.phase;
  $("#stage-formula").textContent = stage.formula;
  $("#stage-shapes").textContent = shapesOf(stage);
  const kind = kindOf(stage, t);
  const shownInBody = ["z", "dW", "dz", "update"].includes(kind) || (kind === "a" && stage.activation === "relu");
  const noteText = shownInBody ? "" : (stage.note || "");
  $("#stage-note").textContent = noteText;
  $("#stage-note").hidden = !$("#stage-note").textContent;
  readout("Hover over a heat map or a bar, or focus one and use the arrow keys, for exact values.");
  renderStage($("#stage-body"), stage, t, { readout, features: datasetInfo().feature_names });
  $("#stage-count").textContent = `${i + 1} of ${n}`;
  const progress = $("#stage-progress");
  progress.max = n;
  progress.value = i + 1;
  progress.setAttribute("aria-valuetext", `stage ${i + 1} of ${n}: ${stage.name}, ${stage.phase}`);
  for (const b of document.querySelectorAll("#stage-list .stage-item")) {
    const k = Number(b.dataset.i);
    b.classList.toggle("done", k < i);
    if (k === i) b.setAttribute("aria-current", "step");
    else b.removeAttribute("aria-current");
  }
  const current = document.querySelector("#stage-list [aria-current=step]");
  if (current) reveal(current);
  for (const b of document.querySelectorAll("#prev-stage, .stage-prev")) b.disabled = i === 0;
  for (const b of document.querySelectorAll("#next-stage, .stage-next")) b.disabled = i === n - 1;
  $("#stage-status").textContent = `Stage ${i + 1} of ${n}, ${stage.phase}: ${titleOf(stage, t)}`;
  highlightGradRows(stage);
  writeUrl();
}

/** Scroll the stage list (not the window) so the current item shows: sideways in the phone's
 *  strip, up and down in the desktop's side column. */
function reveal(item) {
  const ir = item.getBoundingClientRect();
  const strip = $("#stage-list");
  if (strip.scrollWidth > strip.clientWidth) {
    const sr = strip.getBoundingClientRect();
    strip.scrollLeft += (ir.left - sr.left) - (sr.width - ir.width) / 2;
  }
  const side = document.querySelector(".inspect-side");
  if (side.scrollHeight > side.clientHeight) {
    const r = side.getBoundingClientRect();
    if (ir.top < r.top) side.scrollTop -= r.top - ir.top + 8;
    else if (ir.bottom > r.bottom) side.scrollTop += ir.bottom - r.bottom + 8;
  }
}

function go(i) {
  if (!state.trace) return;
  const n = state.trace.stages.length;
  const next = Math.max(0, Math.min(n - 1, i));
  if (next === state.stage) return;
  state.stage = next;
  showStage();
}

// -------------------------------------------------------------------------- gradient check

function renderGradcheck() {
  const body = $("#gradcheck tbody");
  body.replaceChildren();
  for (const r of state.trace.gradient_check) {
    const ok = r.relative_error < 1e-4;
    const tr = document.createElement("tr");
    tr.dataset.param = r.param;
    tr.dataset.ok = String(ok);
    const cells = [
      [paramName(r.param), ""], [`[${r.index.join(", ")}]`, ""], [r.why, "muted"],
      [r.analytic.toPrecision(8), "num"], [r.numeric.toPrecision(8), "num"],
      [r.relative_error === 0 ? "0" : r.relative_error.toExponential(1), "num"],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    tr.children[3].title = exact(r.analytic);
    tr.children[4].title = exact(r.numeric);
    const mark = document.createElement("td");
    mark.className = ok ? "check-cell ok" : "check-cell bad";
    mark.textContent = ok ? "✓" : "✗";
    mark.setAttribute("aria-label", ok ? "passes: relative error under 1e-4" : "fails: relative error 1e-4 or more");
    tr.append(mark);
    body.append(tr);
  }
}

function highlightGradRows(stage) {
  for (const tr of document.querySelectorAll("#gradcheck tbody tr")) {
    tr.classList.toggle("current", !!stage.param && tr.dataset.param === stage.param);
  }
}

// -------------------------------------------------------------------------- confusion matrix

async function loadEvaluation() {
  const seq = ++evalSeq;
  const panel = $("#confusion-panel");
  panel.dataset.state = "loading";
  $("#confusion").hidden = true;
  $("#gallery").replaceChildren();
  $("#gallery-more").hidden = true;
  $("#gallery-filter").textContent = "";
  $("#confusion-summary").textContent = "";
  $("#confusion-message").textContent = "Computing the confusion matrix on the test set…";
  state.evaluation = null;
  state.filter = null;
  if (state.model.architecture.head === "mse" || datasetInfo().task === "regression") {
    $("#confusion-message").textContent = "This is a regression model: it has no classes, so no confusion matrix. "
      + "Its test metrics are in the model's record.";
    panel.dataset.state = "none";
    return;
  }
  try {
    const ev = await api.evaluation(state.model.id, "test", 100);
    if (seq !== evalSeq) return;
    state.evaluation = ev;
    state.shown = GALLERY_PAGE;
    renderConfusion();
    await renderGallery();
    panel.dataset.state = "ready";
  } catch (err) {
    if (seq !== evalSeq) return;
    $("#confusion-message").textContent = err.status === 422
      ? `No confusion matrix for this model: ${err.detail}`
      : `Could not evaluate this model: ${err.detail || err}`;
    panel.dataset.state = err.status === 422 ? "none" : "error";
  }
}

function renderConfusion() {
  const ev = state.evaluation;
  $("#confusion-summary").textContent =
    `${ev.dataset}, ${ev.split} set: ${int(ev.n)} examples · accuracy ${pct(ev.accuracy)} · loss ${short(ev.loss, 4)}`;
  const worst = ev.most_confused[0];
  $("#confusion-message").textContent = worst
    ? `Most often confused: true ${ev.classes[worst.true]} predicted as ${ev.classes[worst.predicted]} (${int(worst.count)} times).`
    : "No mistakes on this split.";
  const table = $("#confusion");
  const head = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.innerHTML = '<span class="visually-hidden">true class, then predicted:</span>true ↓ pred →';
  head.append(corner);
  for (const c of ev.classes) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = c;
    head.append(th);
  }
  for (const text of ["acc.", "n"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.className = "num";
    th.textContent = text;
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren();
  ev.confusion.forEach((row, t) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = ev.classes[t];
    tr.append(th);
    const total = ev.class_counts[t] || 1;
    row.forEach((n, p) => {
      const td = document.createElement("td");
      const frac = n / total;
      td.className = t === p ? "cm diag" : "cm off";
      td.style.setProperty("--a", frac.toFixed(3));
      if (frac > 0.55) td.classList.add("strong");
      td.title = `true ${ev.classes[t]}, predicted ${ev.classes[p]}: ${n} of ${ev.class_counts[t]} (${pct(frac)})`;
      if (t !== p && n > 0) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = String(n);
        b.dataset.true = String(t);
        b.dataset.pred = String(p);
        b.setAttribute("aria-label", `${n} examples of ${ev.classes[t]} predicted as ${ev.classes[p]}: show them`);
        td.append(b);
      } else {
        td.textContent = String(n);
      }
      tr.append(td);
    });
    const acc = document.createElement("td");
    acc.className = "num";
    acc.textContent = ev.per_class_accuracy[t] === null ? "–" : pct(ev.per_class_accuracy[t]);
    const n = document.createElement("td");
    n.className = "num muted";
    n.textContent = int(ev.class_counts[t]);
    tr.append(acc, n);
    body.append(tr);
  });
  table.hidden = false;
}

function galleryItems() {
  const ev = state.evaluation;
  let items = ev.misclassified;
  if (state.filter) items = items.filter((m) => m.true === state.filter[0] && m.predicted === state.filter[1]);
  return items;
}

async function renderGallery() {
  const ev = state.evaluation;
  const items = galleryItems();
  const shown = items.slice(0, state.shown);
  const c = (k) => ev.classes[k];
  const filter = $("#gallery-filter");
  if (state.filter) {
    filter.replaceChildren(`True ${c(state.filter[0])} predicted as ${c(state.filter[1])}: ${items.length} listed. `);
    const all = document.createElement("button");
    all.type = "button";
    all.className = "small";
    all.id = "gallery-all";
    all.textContent = "Show all mistakes";
    filter.append(all);
  } else {
    filter.textContent = ev.n_misclassified
      ? `${int(ev.n_misclassified)} mistakes; the ${Math.min(items.length, ev.n_misclassified)} most confident are listed, most confident first. Pick one to step through it.`
      : "";
  }
  const image = ev.dataset === "mnist" || isImageModel();
  const need = image ? shown.map((m) => m.index).filter((i) => !state.pixels.has(i)) : [];
  if (need.length) {
    try {
      const got = await api.examples(state.model.id, need, ev.split);
      for (const e of got.examples) {
        const rows = [];
        for (let r = 0; r < 28; r++) rows.push(e.x.slice(28 * r, 28 * r + 28));
        state.pixels.set(e.index, rows);
      }
    } catch {
      // thumbnails are a nicety: without them the gallery lists the numbers only
    }
  }
  const list = $("#gallery");
  list.replaceChildren();
  for (const m of shown) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "thumb";
    b.dataset.index = String(m.index);
    b.setAttribute("aria-label", `${ev.split} example ${m.index}: true ${c(m.true)}, predicted ${c(m.predicted)} `
      + `with p = ${short(m.confidence, 3)}; step through it`);
    b.title = `#${m.index}: true ${c(m.true)}, predicted ${c(m.predicted)} (p = ${short(m.confidence, 3)}; p of the true class ${short(m.p_true, 3)})`;
    if (state.pixels.has(m.index)) {
      const canvas = document.createElement("canvas");
      b.append(canvas);
      li.append(b);
      list.append(li);
      heatMap(canvas, state.pixels.get(m.index), { scale: "ink", square: true, cellMax: 2, hover: false });
    } else {
      const idx = document.createElement("span");
      idx.className = "thumb-index";
      idx.textContent = `#${m.index}`;
      b.append(idx);
      li.append(b);
      list.append(li);
    }
    const cap = document.createElement("span");
    cap.className = "thumb-cap";
    cap.textContent = `${c(m.true)}→${c(m.predicted)} ${Math.round(100 * m.confidence)}%`;
    b.append(cap);
  }
  markGallery();
  $("#gallery-more").hidden = items.length <= state.shown;
  if (!shown.length && ev.n_misclassified === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "Every test example is classified correctly.";
    list.append(li);
  }
}

/** Outline the thumbnail of the example being traced, if it is one. */
function markGallery() {
  const src = state.trace && state.trace.source;
  const ev = state.evaluation;
  for (const b of document.querySelectorAll("#gallery .thumb")) {
    const on = !!(src && ev && src.kind === "dataset" && src.split === ev.split && Number(b.dataset.index) === src.index);
    b.setAttribute("aria-pressed", String(on));
  }
}

// -------------------------------------------------------------------------- drawing pad

function setupPad() {
  const pad = $("#pad");
  const ctx = pad.getContext("2d");
  let drawing = false;
  const at = (e) => {
    const box = pad.getBoundingClientRect();
    return [(e.clientX - box.left) * (pad.width / box.width), (e.clientY - box.top) * (pad.height / box.height)];
  };
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = 20;
    ctx.strokeStyle = "#000";
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
    e.preventDefault();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => { drawing = false; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("#clear-pad").addEventListener("click", () => ctx.clearRect(0, 0, pad.width, pad.height));
  $("#trace-drawing").addEventListener("click", () => {
    if (!paintedPixels(pad)) {
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
  for (const b of document.querySelectorAll("#prev-stage, .stage-prev")) b.addEventListener("click", () => go(state.stage - 1));
  for (const b of document.querySelectorAll("#next-stage, .stage-next")) b.addEventListener("click", () => go(state.stage + 1));
  $("#stage-list").addEventListener("click", (e) => {
    const b = e.target.closest(".stage-item");
    if (b) go(Number(b.dataset.i));
  });
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (t.closest && t.closest("input, select, textarea, [contenteditable=true], canvas")) return;
    const moves = { ArrowRight: () => go(state.stage + 1), ArrowLeft: () => go(state.stage - 1),
      Home: () => go(0), End: () => go(Infinity) };
    if (moves[e.key] && state.trace) {
      e.preventDefault();
      moves[e.key]();
    }
  });
  $("#confusion").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-true]");
    if (!b) return;
    state.filter = [Number(b.dataset.true), Number(b.dataset.pred)];
    state.shown = GALLERY_PAGE;
    renderGallery();
  });
  $("#gallery-filter").addEventListener("click", (e) => {
    if (e.target.id !== "gallery-all") return;
    state.filter = null;
    state.shown = GALLERY_PAGE;
    renderGallery();
  });
  $("#gallery-more").addEventListener("click", () => { state.shown += GALLERY_PAGE; renderGallery(); });
  $("#gallery").addEventListener("click", async (e) => {
    const b = e.target.closest(".thumb");
    if (!b) return;
    setSource("dataset");
    state.split = state.evaluation.split;
    $("#split").value = state.split;
    state.index = Number(b.dataset.index);
    $("#index").value = String(state.index);
    showSplitSize();
    await runTrace();
    $("#stage").scrollIntoView({ block: "start", behavior: "smooth" });
    $("#stage").focus({ preventScroll: true });
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.trace) renderStage($("#stage-body"), state.trace.stages[state.stage], state.trace, { readout, features: datasetInfo().feature_names }); }, 200);
  });
  setupPad();
}

async function start() {
  const main = $("#main");
  wire();
  const url = readUrl();
  state.split = url.split;
  state.index = url.index;
  state.wantedStage = url.stage;
  try {
    const [choices, models] = await Promise.all([api.getChoices(), api.listModels()]);
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
