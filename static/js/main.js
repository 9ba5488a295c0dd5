// The page's wiring: load what the server offers, build the panels, and follow
// the run on view. Panels draw; this module only connects them (as
// playground.ts does).

import * as api from "./api.js";
import { createBoundary } from "./boundary.js";
import { createBuilder } from "./builder.js";
import { createRunCharts } from "./charts.js";
import { createDrawPanel } from "./draw.js";
import { ACTIVE, TERMINAL, num, pct, runLabel } from "./format.js";
import { createHistograms } from "./histograms.js";
import { describeEnd, followRun } from "./run_follower.js";
import { createRunList } from "./runs.js";
import { fillSpec, load, runBody, save, setSpecDefaults, state, toHash } from "./state.js";

const $ = (id) => document.getElementById(id);

const statusBadge = $("run-status");
const statusLine = $("status-line");
const connectionLine = $("connection-line");
const formError = $("form-error");
const buttons = { train: $("train"), pause: $("pause"), resume: $("resume"), stop: $("stop") };

/** The run on view: its spec, status and the epoch metrics received so far. */
const run = { id: null, spec: null, info: null, status: "idle", total: 0, history: [], follower: null, lastView: null, progress: null };

let builder, charts, histograms, boundary, runList, draw;

function setStatus(status, text) {
  run.status = status;
  statusBadge.dataset.status = status;
  statusBadge.textContent = status;
  if (text !== undefined) statusLine.textContent = text;
  buttons.pause.disabled = status !== "running";
  buttons.resume.disabled = !(status === "paused" || status === "interrupted");
  buttons.stop.disabled = !(ACTIVE.has(status) || status === "interrupted");
}

function setConnection(state_, text) {
  connectionLine.hidden = false;
  connectionLine.textContent = text;
  connectionLine.dataset.state = state_;
  if (state_ === "open") setTimeout(() => { if (connectionLine.dataset.state === "open") connectionLine.hidden = true; }, 4000);
}

// -- drawing, at most once per frame ---------------------------------------------
let frameQueued = false;
function scheduleDraw() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    charts.update(run.history);
    histograms.update(run.history);
    if (run.lastView) boundary.setView(run.lastView.view, run.lastView.epoch);
    updateReadout();
  });
}

function updateReadout() {
  const last = run.history[run.history.length - 1];
  const out = $("readout");
  if (!last) { out.textContent = ""; return; }
  const parts = [`epoch ${last.epoch}`, `train loss ${num(last.train_loss)}`];
  if (last.val_loss !== undefined) parts.push(`val loss ${num(last.val_loss)}`);
  if (last.train_accuracy !== undefined) parts.push(`train acc ${pct(last.train_accuracy)}`);
  if (last.val_accuracy !== undefined) parts.push(`val acc ${pct(last.val_accuracy)}`);
  if (last.train_r2 !== undefined) parts.push(`R² ${num(last.train_r2, 3)}`);
  parts.push(`lr ${num(last.lr)}`);
  out.textContent = parts.join(" · ");
  $("run-progress").value = run.total ? last.epoch / run.total : 0;
  $("run-progress-text").textContent = `${last.epoch} / ${run.total}`;
}

// -- the run on view ---------------------------------------------------------------
function showRun(record) {
  if (run.follower) run.follower.close();
  run.follower = null;
  run.id = record.id;
  run.spec = record.spec;
  run.info = builder.datasetInfo(record.spec.dataset);
  run.total = record.epochs_total;
  run.history = [];
  run.lastView = null;
  run.progress = null;
  state.run = record.id;
  save();
  connectionLine.hidden = true;
  $("epoch-progress").value = 0;
  $("run-progress").value = 0;
  $("epoch-progress-text").textContent = "–";
  $("run-progress-text").textContent = `0 / ${record.epochs_total}`;
  charts.reset(run.info.task, record.spec.validation_split > 0);
  histograms.reset();
  boundary.reset(run.info);
  runList.setCurrent(record.id);
  if (boundary.supports()) {
    const n = run.info.task === "regression" ? 400 : 600;
    api.getSamples(record.spec.dataset, n, record.spec.dataset_params, record.spec.seed)
      .then((s) => { if (run.id === record.id) boundary.setPoints(s); })
      .catch((err) => { statusLine.textContent = `Could not load the training points: ${err.detail}`; });
  }
}

function addEpoch(metrics) {
  if (run.history.length && metrics.epoch <= run.history[run.history.length - 1].epoch) return;
  run.history.push(metrics);
  if (metrics.view) run.lastView = { view: metrics.view, epoch: metrics.epoch };
  scheduleDraw();
}

function follow(record) {
  const label = runLabel(run.spec, run.info);
  run.follower = followRun(record, label, {
    status(status, sentence) {
      setStatus(status, sentence);
      if (status !== "running") haltProgress(status);
      runList.refresh();
    },
    progress(p) {
      run.progress = p;
      if (run.status !== "running") setStatus("running", `Training ${label}…`);
      $("epoch-progress").value = p.epochDone;
      $("epoch-progress-text").textContent = `${p.epoch}: ${p.text}`;
      if (run.total) $("run-progress").value = p.runDone;
    },
    epoch: addEpoch,
    end(status, sentence, data) {
      setStatus(status, sentence);
      if (status === "completed") {
        if (run.spec.dataset === "mnist") draw.refreshModels(data.model_id); // a new model to draw for
        $("epoch-progress-text").textContent = `${data.epochs_done}: done`;
        $("epoch-progress").value = 1;
        $("run-progress").value = 1;
      } else haltProgress(status);
      scheduleDraw();
      runList.refresh();
    },
    connection: setConnection,
  });
}

/** The run no longer trains (paused, stopped, ...): its batch stays, its speed and ETA go. */
function haltProgress(status) {
  const p = run.progress;
  if (p) $("epoch-progress-text").textContent = `${p.epoch}: ${p.where} · ${status}`;
}

/** Open a run from the list (or a link): its history, then its live events if it still runs. */
async function openRun(id, { loadSpec = true } = {}) {
  let record;
  try {
    record = await api.getRun(id);
  } catch (err) {
    statusLine.textContent = `Could not open run ${id}: ${err.detail}`;
    if (state.run === id) { state.run = null; save(); }
    return;
  }
  if (loadSpec) {
    state.spec = fillSpec(record.spec);
    builder.render();
  }
  showRun(record);
  if (TERMINAL.has(record.status)) {
    for (const m of record.history) addEpoch(m);
    const last = record.history[record.history.length - 1];
    setStatus(record.status, describeEnd(record));
    if (last) $("run-progress").value = last.epoch / record.epochs_total;
    $("epoch-progress-text").textContent = last ? `${last.epoch}: done` : "–";
    $("epoch-progress").value = last ? 1 : 0;
  } else {
    setStatus(record.status, `Following run ${runLabel(record.spec, run.info)}…`);
    follow(record); // the stream replays the stored events, then the live ones
  }
}

async function train(event) {
  event.preventDefault();
  formError.textContent = "";
  builder.clearErrors();
  buttons.train.disabled = true;
  try {
    const record = await api.createRun(runBody(state.spec));
    showRun(record);
    const label = runLabel(record.spec, run.info);
    if (record.queue_position == null) setStatus("starting", `Starting ${label}…`); // a worker took it at once
    else setStatus("queued", `Run ${label} is queued (position ${record.queue_position}): it starts when a worker is free.`);
    follow(record);
    runList.refresh();
  } catch (err) {
    const marked = builder.showErrors(err);
    formError.textContent = err.status === 422
      ? `Not started: ${marked ? "fix the marked field(s)" : "the server refused the settings"} (${err.detail}).`
      : `Not started: ${err.detail}`;
  } finally {
    buttons.train.disabled = false;
  }
}

async function control(action) {
  if (!run.id) return;
  try {
    const record = await api.controlRun(run.id, action);
    if (action === "resume" && record.status === "queued") {
      setStatus("queued", "Resuming from the last checkpoint when a worker is free…");
      if (!run.follower) follow(record);
    }
  } catch (err) {
    statusLine.textContent = `Could not ${action} the run: ${err.detail}`;
  }
}

/** A setup edited: keep it in the URL; an empty boundary panel follows the chosen dataset. */
function specChanged() {
  save();
  const info = builder.datasetInfo(state.spec.dataset);
  if (info && !run.lastView && boundary.dataset() !== info.name) boundary.reset(info);
}

async function main() {
  const page = $("main");
  let spec, datasets, presets;
  try {
    [spec, datasets, presets] = await Promise.all([api.getSpec(), api.getDatasets(), api.getPresets()]);
  } catch (err) {
    statusLine.textContent = `The page could not load its settings: ${err.detail}`;
    return;
  }
  setSpecDefaults(spec.defaults);
  load();
  const choices = spec.choices;
  const fresh = !window.location.hash;
  builder = createBuilder($("builder"), {
    datasets, presets, choices,
    onChange: specChanged,
    onPreset: specChanged,
  });
  if (fresh) {
    const xor = presets.find((p) => p.name === "xor");
    if (xor) state.spec = fillSpec(xor.spec);
  }
  charts = createRunCharts({ lossEl: $("loss-chart"), metricEl: $("metric-chart"), lrEl: $("lr-chart"), metricTitle: $("metric-title") },
    { logScale: state.ui.logScale });
  histograms = createHistograms({
    canvas: $("histogram"), layerSelect: $("hist-layer"), kindSelect: $("hist-kind"), readout: $("hist-readout"),
    normsEl: $("norms-chart"), statsBody: $("layer-stats"),
  });
  boundary = createBoundary({ canvas: $("boundary"), epochLabel: $("boundary-epoch"), legend: $("boundary-legend"), title: $("boundary-title") });
  runList = createRunList({
    list: $("run-list"), errorLine: $("runs-error"), compareBox: $("compare"), compareEl: $("compare-chart"), refreshButton: $("refresh-runs"),
  }, { datasetInfo: builder.datasetInfo, onOpen: (id) => openRun(id), logScale: state.ui.logScale });
  draw = createDrawPanel($("draw"), { presets, mnist: builder.datasetInfo("mnist"), onRunChange: () => runList.refresh() });

  builder.render();
  if (fresh) builder.showPreset("xor");
  save();
  const logBox = $("log-scale");
  logBox.checked = state.ui.logScale;
  logBox.addEventListener("change", () => {
    state.ui.logScale = logBox.checked;
    charts.setLog(logBox.checked);
    runList.setLog(logBox.checked);
    save();
    scheduleDraw();
  });
  $("builder").addEventListener("submit", train);
  buttons.pause.addEventListener("click", () => control("pause"));
  buttons.resume.addEventListener("click", () => control("resume"));
  buttons.stop.addEventListener("click", () => control("stop"));
  // canvases follow their box's width
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { histograms.redraw(); boundary.redraw(); builder.redrawPreview(); }, 150);
  });

  // A hash typed or pasted into the address bar: take it as the new setup.
  window.addEventListener("hashchange", () => {
    if (window.location.hash === toHash()) return; // our own write
    const previousRun = state.run;
    load();
    builder.showPreset("");
    builder.render();
    logBox.checked = state.ui.logScale;
    charts.setLog(state.ui.logScale);
    if (state.run && state.run !== previousRun) openRun(state.run, { loadSpec: false });
  });

  charts.reset((builder.datasetInfo(state.spec.dataset) || { task: "binary" }).task, false);
  boundary.reset(builder.datasetInfo(state.spec.dataset) || datasets[0]);
  histograms.reset();
  setStatus("idle");
  await runList.refresh();
  if (state.run) await openRun(state.run, { loadSpec: false });
  page.dataset.ready = "true";
}

main();
