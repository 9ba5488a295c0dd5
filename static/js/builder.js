// The builder panel: presets, dataset (with a preview), network (layers, shapes,
// diagram) and hyperparameters. It reads and writes state.spec; the page is told
// of every change through onChange().

import * as api from "./api.js";
import { classColor, drawAxes, drawDigits, drawPoints, fitCanvas, frame, span } from "./canvas.js";
import { HEAD, int, widths } from "./format.js";
import { fillSpec, getPath, setPath, state } from "./state.js";

/** Display names of the presets from GET /api/presets (others use their description's title). */
const PRESET_TITLES = {
  "walkthrough-adam": "Walkthrough (Adam)",
  "walkthrough-sgd": "Walkthrough (SGD)",
  "from-scratch": "From scratch",
  xor: "XOR 2-4-1",
  letters: "Letters 26-64-26",
  spam: "Spam 3-2-1 sigmoid",
  "mnist-default": "MNIST default",
};

/** Dataset parameters: label, hint and how to read the input. */
const PARAM_FIELDS = {
  n_samples: ["Samples", "How many points to generate (train + test).", "int"],
  noise: ["Noise", "How far the points scatter from the clean shape (0–1).", "float"],
  test_fraction: ["Test fraction", "Share of the points kept aside to test on.", "float"],
  n_classes: ["Classes", "How many classes (2–10).", "int"],
  train_subset: ["Training subset", "Train on only this many images. Empty: all of them.", "optional-int"],
  standardize: ["Standardise pixels", "Subtract the mean of all training pixels and divide by their standard deviation (drawings get the same).", "bool"],
};

const PRESET_HINT = "Fills in the dataset, network and training settings from the course.";
const MAX_NODES = 8; // nodes drawn per layer in the diagram

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children);
  return node;
}

/** Points drawn in a 2-D or 1-D dataset's preview. */
const PREVIEW_POINTS = 300;

const pathId = (path) => `f-${path.replaceAll(".", "-")}`;

/** Read an input as its data-type says; an empty optional field is null. */
function readInput(input) {
  const type = input.dataset.type;
  if (type === "bool") return input.checked;
  if (type === "string") return input.value;
  if (input.value.trim() === "") return null;
  const n = Number(input.value);
  return Number.isNaN(n) ? input.value : n;
}

function writeInput(input, value) {
  if (input.dataset.type === "bool") input.checked = Boolean(value);
  else input.value = value === null || value === undefined ? "" : String(value);
}

export function createBuilder(form, { datasets, presets, choices, onChange, onPreset }) {
  const byName = Object.fromEntries(datasets.map((d) => [d.name, d]));
  const $ = (sel) => form.querySelector(sel);
  const presetSelect = document.getElementById("preset");
  let previewTimer = null;
  let previewToken = 0;

  // -- static choices ------------------------------------------------------
  for (const select of form.querySelectorAll("select[data-choices]")) {
    for (const value of choices[select.dataset.choices] || []) select.append(el("option", { value, text: value }));
  }
  const datasetSelect = $("#f-dataset");
  for (const d of datasets) {
    datasetSelect.append(el("option", { value: d.name, text: d.available ? d.name : `${d.name} (unavailable)` }));
  }
  for (const p of presets) {
    const title = PRESET_TITLES[p.name] || p.description.split(":")[0];
    presetSelect.append(el("option", { value: p.name, text: title }));
  }

  presetSelect.addEventListener("change", () => {
    const preset = presets.find((p) => p.name === presetSelect.value);
    if (!preset) return;
    document.getElementById("preset-hint").textContent = preset.description;
    state.spec = fillSpec(preset.spec);
    render();
    onPreset(preset);
  });

  // -- input -> state --------------------------------------------------------
  function onInput(event) {
    const input = event.target.closest("[data-path]");
    if (!input) return;
    const path = input.dataset.path;
    const value = readInput(input);
    if (path === "dataset") {
      state.spec.dataset = value;
      state.spec.dataset_params = {};
      const info = byName[value];
      if (!info || info.input_shape.length !== 2) { // augmentation is for images only
        state.spec.augment = { max_shift: 0, max_rotation: 0 };
        syncInputs();
      }
      renderDatasetParams();
      schedulePreview(0);
    } else {
      setPath(state.spec, path.split(".").map((k) => (/^\d+$/.test(k) ? Number(k) : k)), value);
      if (path.startsWith("dataset_params.")) schedulePreview(400);
    }
    clearError(path);
    if (presetSelect.value) showPreset("");
    updateDerived();
    onChange();
  }
  form.addEventListener("input", onInput); // selects and checkboxes fire "input" too

  $("#add-layer").addEventListener("click", () => {
    const last = state.spec.layers[state.spec.layers.length - 1] || { units: 8, activation: "relu" };
    state.spec.layers.push({ units: Number(last.units) || 8, activation: last.activation });
    renderLayers();
    updateDerived();
    onChange();
    form.querySelector(`#${pathId(`layers.${state.spec.layers.length - 1}.units`)}`).focus();
  });

  $("#layers").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-remove]");
    if (!button || state.spec.layers.length <= 1) return;
    const index = Number(button.dataset.remove);
    state.spec.layers.splice(index, 1);
    renderLayers();
    updateDerived();
    onChange();
    const next = form.querySelectorAll("#layers button[data-remove]")[Math.min(index, state.spec.layers.length - 1)];
    if (next) (next.disabled ? $("#add-layer") : next).focus();
  });

  // -- rendering -------------------------------------------------------------
  function fieldBlock(path, label, hint, type, value) {
    const id = pathId(path);
    const input = type === "bool"
      ? el("input", { id, type: "checkbox", "data-path": path, "data-type": type, "aria-describedby": `${id}-hint ${id}-error` })
      : el("input", {
        id, type: "number", step: type.includes("int") ? "1" : "any", inputmode: type.includes("int") ? "numeric" : "decimal",
        "data-path": path, "data-type": type, placeholder: type.startsWith("optional") ? "all" : null,
        "aria-describedby": `${id}-hint ${id}-error`,
      });
    writeInput(input, value);
    return el("div", { class: type === "bool" ? "field checkbox" : "field" },
      type === "bool" ? el("label", { for: id }, input, ` ${label}`) : el("label", { for: id, text: label }),
      ...(type === "bool" ? [] : [input]),
      el("p", { class: "hint", id: `${id}-hint`, text: hint }),
      el("p", { class: "error", id: `${id}-error`, "data-error-for": path }));
  }

  function renderDatasetParams() {
    const box = $("#dataset-params");
    box.replaceChildren();
    const info = byName[state.spec.dataset];
    if (!info) return;
    for (const [name, fallback] of Object.entries(info.params)) {
      const [label, hint, type] = PARAM_FIELDS[name] || [name, "", typeof fallback === "boolean" ? "bool" : "float"];
      const value = name in state.spec.dataset_params ? state.spec.dataset_params[name] : fallback;
      box.append(fieldBlock(`dataset_params.${name}`, label, hint, type, value));
    }
  }

  function renderLayers() {
    const list = $("#layers");
    list.replaceChildren();
    const only = state.spec.layers.length <= 1;
    state.spec.layers.forEach((layer, i) => {
      const unitsPath = `layers.${i}.units`, actPath = `layers.${i}.activation`;
      const units = el("input", {
        id: pathId(unitsPath), type: "number", step: "1", inputmode: "numeric", "data-path": unitsPath, "data-type": "int",
        "aria-describedby": `${pathId(unitsPath)}-error`,
      });
      writeInput(units, layer.units);
      const act = el("select", { id: pathId(actPath), "data-path": actPath, "data-type": "string", "aria-describedby": `${pathId(actPath)}-error` });
      for (const a of choices.activation) act.append(el("option", { value: a, text: a }));
      act.value = layer.activation;
      list.append(el("li", { class: "layer" },
        el("span", { class: "layer-name", text: `Hidden ${i + 1}` }),
        el("label", { for: units.id, class: "visually-hidden", text: `Units in hidden layer ${i + 1}` }),
        units,
        el("label", { for: act.id, class: "visually-hidden", text: `Activation of hidden layer ${i + 1}` }),
        act,
        el("button", {
          type: "button", class: "icon", "data-remove": String(i), disabled: only,
          "aria-label": `Remove hidden layer ${i + 1}`, title: only ? "A network needs at least one hidden layer" : "Remove this layer", text: "✕",
        }),
        el("p", { class: "error", id: `${pathId(unitsPath)}-error`, "data-error-for": unitsPath }),
        el("p", { class: "error", id: `${pathId(actPath)}-error`, "data-error-for": actPath })));
    });
  }

  function syncInputs() {
    for (const input of form.querySelectorAll("[data-path]")) {
      const path = input.dataset.path;
      if (path.startsWith("layers.") || path.startsWith("dataset_params.")) continue;
      writeInput(input, getPath(state.spec, path.split(".")));
    }
  }

  function updateVisibility() {
    for (const box of form.querySelectorAll("[data-show]")) {
      const [path, values] = box.dataset.show.split(":");
      box.hidden = !values.split(",").includes(getPath(state.spec, path.split(".")));
    }
  }

  function updateDerived() {
    const info = byName[state.spec.dataset];
    $("#dataset-description").textContent = info
      ? `${info.task} · ${info.description}${info.available ? "" : ` (unavailable: ${info.error})`}`
      : "";
    updateVisibility();
    if (!info) return;
    const ws = widths(state.spec, info);
    const features = info.input_shape.length > 1 ? `${info.input_shape.join("×")} pixels`
      : info.feature_names.length > 4 ? `${info.feature_names.slice(0, 3).join(", ")}, …` : info.feature_names.join(", ");
    $("#network-input").textContent = `Input: ${int(info.n_features)} (${features})`;
    const classes = info.task === "regression" ? "one value" : info.task === "binary" ? `P(${info.classes[1]})` : `${info.classes.length} classes`;
    $("#network-output").textContent = `Output: ${int(info.n_outputs)} · ${HEAD[info.task]} (${classes})`;

    const body = $("#shapes");
    body.replaceChildren();
    let total = 0;
    for (let i = 1; i < ws.length; i++) {
      const [a, b] = [ws[i - 1], ws[i]];
      const ok = Number.isInteger(a) && Number.isInteger(b) && a > 0 && b > 0;
      const w = ok ? a * b : NaN;
      total += ok ? w + b : NaN;
      body.append(
        el("tr", {}, el("th", { scope: "row", text: `W${i}` }), el("td", { text: `${a} × ${b}` }), el("td", { class: "num", text: ok ? int(w) : "?" })),
        el("tr", {}, el("th", { scope: "row", text: `b${i}` }), el("td", { text: String(b) }), el("td", { class: "num", text: ok ? int(b) : "?" })));
    }
    $("#param-total").textContent = Number.isNaN(total) ? "?" : int(total);
    $("#param-total").dataset.total = String(total);
    drawDiagram(ws, info);
  }

  function drawDiagram(ws, info) {
    const svg = $("#network-diagram");
    const NS = "http://www.w3.org/2000/svg";
    const counts = ws.map((n) => (Number.isInteger(n) && n > 0 ? n : 0));
    const tallest = Math.max(1, ...counts.map((n) => Math.min(n, MAX_NODES)));
    const step = 18, top = 12, bottom = 34, r = 6;
    const W = 360, H = top + bottom + step * tallest;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const acts = ["input", ...state.spec.layers.map((l) => l.activation), HEAD[info.task]];
    const cols = counts.map((count, c) => {
      const shown = count > MAX_NODES ? MAX_NODES - 1 : count;
      const x = 24 + (c * (W - 48)) / Math.max(1, ws.length - 1);
      const y0 = top + (H - top - bottom - step * (shown - 1 + (count > shown ? 1 : 0))) / 2;
      return { x, count, shown, ys: Array.from({ length: shown }, (_, k) => y0 + k * step), more: count > shown ? y0 + shown * step : null };
    });
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      svg.append(node);
      return node;
    };
    for (let c = 1; c < cols.length; c++) {
      for (const ya of cols[c - 1].ys) for (const yb of cols[c].ys) {
        add("line", { x1: cols[c - 1].x, y1: ya, x2: cols[c].x, y2: yb, class: "edge" });
      }
    }
    cols.forEach((col, c) => {
      const kind = c === 0 ? "in" : c === cols.length - 1 ? "out" : "hidden";
      for (const y of col.ys) add("circle", { cx: col.x, cy: y, r, class: `node ${kind}` });
      if (col.more !== null) add("text", { x: col.x, y: col.more + 4, class: "more", "text-anchor": "middle" }, `…${col.count}`);
      add("text", { x: col.x, y: H - 18, class: "col-label", "text-anchor": "middle" }, String(col.count || "?"));
      add("text", { x: col.x, y: H - 5, class: "col-act", "text-anchor": "middle" }, acts[c] || "");
    });
    svg.setAttribute("aria-label", `Network diagram: ${ws.join(" → ")} units`);
  }

  // -- dataset preview ----------------------------------------------------------
  function schedulePreview(delay) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(loadPreview, delay);
  }

  async function loadPreview() {
    const token = ++previewToken;
    const info = byName[state.spec.dataset];
    const box = $("#dataset-preview");
    const caption = $("#dataset-preview-caption");
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
      samples = await api.getSamples(info.name, n, state.spec.dataset_params, state.spec.seed);
    } catch (err) {
      if (token === previewToken) box.replaceChildren(el("p", { class: "error", text: `No preview: ${err.detail}` }));
      return;
    }
    if (token !== previewToken) return; // a newer preview was asked for
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
      caption.textContent = `${samples.X.length} of ${int(info.train_size)} training rows.`;
    }
  }

  function drawPreviewPlot(canvas, samples, info, kind) {
    const { ctx, w, h } = fitCanvas(canvas, 0.6);
    const margin = { left: 30, right: 8, top: 8, bottom: 16 };
    if (kind === "scatter") {
      const f = frame(w, h, span(samples.X.map((p) => p[0])), span(samples.X.map((p) => p[1])), margin);
      drawPoints(ctx, f, samples.X.map((p, i) => [p[0], p[1], samples.y[i]]), { nClasses: info.classes.length, radius: 3 });
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
    const items = info.classes.map((name, k) => el("span", { class: "swatch-item" },
      el("span", { class: "swatch", style: `background:${classColor(k, info.classes.length)}` }), ` ${name}`));
    return [`${points}. `, ...items];
  }

  function previewTable(samples, info) {
    const names = samples.feature_names.length ? samples.feature_names : samples.X[0].map((_, j) => `x${j + 1}`);
    const oneHot = samples.X.every((row) => row.every((v) => v === 0 || v === 1));
    const head = el("tr", {}, el("th", { scope: "col", text: "label" }), ...names.map((name) => el("th", { scope: "col", text: name })));
    const rows = samples.X.map((row, i) => el("tr", {},
      el("th", { scope: "row", text: info.task === "regression" ? String(samples.y[i]) : String(samples.classes[samples.y[i]] ?? samples.y[i]) }),
      ...row.map((v) => el("td", { class: oneHot && v ? "num on" : "num", text: String(Number(v.toFixed(2))) }))));
    return el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Example rows" },
      el("table", { class: "preview-table" }, el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  // -- errors -------------------------------------------------------------------
  function clearError(path) {
    for (const p of form.querySelectorAll(`[data-error-for="${CSS.escape(path)}"]`)) p.textContent = "";
    const input = form.querySelector(`[data-path="${CSS.escape(path)}"]`);
    if (input) input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    for (const p of document.querySelectorAll("[data-error-for]")) p.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  /** Where an error belongs: the deepest field whose error line exists. */
  function errorSlot(path) {
    const parts = path.split(".");
    for (let k = parts.length; k > 0; k--) {
      const p = parts.slice(0, k).join(".");
      const slot = document.querySelector(`[data-error-for="${CSS.escape(p)}"]`);
      if (slot) return { slot, path: p };
    }
    return null;
  }

  /** A 422 without `errors[]` still names its field in the message ("noise must be …",
   *  "5000 epochs is over …"): find the field whose name it mentions. */
  function guessPath(detail) {
    const candidates = [...form.querySelectorAll("[data-path]")].map((i) => i.dataset.path);
    const found = candidates
      .map((path) => ({ path, name: path.split(".").pop() }))
      .filter(({ name }) => !/^\d+$/.test(name) && new RegExp(`(^|[^\\w])${name}([^\\w]|$)`).test(detail))
      .sort((a, b) => b.name.length - a.name.length);
    if (found.length) return found[0].path;
    if (/hidden layers|units/.test(detail)) return "layers";
    return null;
  }

  /** Show an ApiError's messages beside their fields; returns how many fields it marked. */
  function showErrors(err) {
    clearErrors();
    const located = (err.errors || []).map((e) => ({
      path: e.loc.filter((p) => p !== "body").join("."), msg: e.msg,
    }));
    if (!located.length && err.status === 422) {
      const path = guessPath(err.detail);
      if (path) located.push({ path, msg: err.detail });
    }
    let first = null;
    for (const { path, msg } of located) {
      const target = errorSlot(path);
      if (!target) continue;
      target.slot.textContent = target.slot.textContent ? `${target.slot.textContent}; ${msg}` : msg;
      const input = form.querySelector(`[data-path="${CSS.escape(target.path)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    }
    if (first) first.focus();
    return located.length;
  }

  function render() {
    syncInputs();
    renderDatasetParams();
    renderLayers();
    updateDerived();
    clearErrors();
    schedulePreview(0);
  }

  function redrawPreview() {
    schedulePreview(150);
  }

  /** Show a preset as chosen (when the page opens on it). */
  function showPreset(name) {
    const preset = presets.find((p) => p.name === name);
    presetSelect.value = preset ? name : "";
    document.getElementById("preset-hint").textContent = preset ? preset.description : PRESET_HINT;
  }

  return { render, showErrors, clearErrors, redrawPreview, showPreset, datasetInfo: (name) => byName[name] };
}

function previewKind(info) {
  if (info.input_shape.length === 2) return "digits";
  if (info.n_features === 2 && info.task !== "regression") return "scatter";
  if (info.n_features === 1 && info.task === "regression") return "line";
  return "table";
}
