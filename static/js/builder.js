// The builder panel: presets, dataset (with a preview), network (layers, shapes,
// diagram) and hyperparameters. It reads and writes state.spec; the page is told
// of every change through onChange().

import { createDatasetPreview } from "./dataset_preview.js";
import { el } from "./dom.js";
import { HEAD, int, widths } from "./format.js";
import { drawNetworkDiagram } from "./network_diagram.js";
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
  const preview = createDatasetPreview($("#dataset-preview"), $("#dataset-preview-caption"),
    () => ({ info: byName[state.spec.dataset], params: state.spec.dataset_params, seed: state.spec.seed }));
  const schedulePreview = preview.schedule;

  // -- static choices ------------------------------------------------------
  for (const select of form.querySelectorAll("select[data-choices]")) {
    for (const value of choices[select.dataset.choices] || []) select.append(el("option", { value, text: value }));
  }
  const datasetSelect = $("#f-dataset");
  for (const d of datasets) {
    datasetSelect.append(el("option", { value: d.name, text: d.available ? d.name : `${d.name} (unavailable)` }));
  }
  const missing = datasets.filter((d) => !d.available).map((d) => d.name);
  for (const p of presets) {
    const title = PRESET_TITLES[p.name] || p.description.split(":")[0];
    const off = missing.includes(p.spec.dataset);
    presetSelect.append(el("option", { value: p.name, text: off ? `${title} (unavailable)` : title, disabled: off }));
  }
  // One sentence on why some presets are off, under the preset picker whatever it shows.
  const presetsOff = missing.filter((name) => presets.some((p) => p.spec.dataset === name));
  const missingNote = presetsOff.length
    ? ` The ${presetsOff.join(", ")} presets are off: this server has no ${presetsOff.join(", ")} files (see the dataset's note below).`
    : "";
  document.getElementById("preset-hint").textContent = PRESET_HINT + missingNote;

  presetSelect.addEventListener("change", () => {
    const preset = presets.find((p) => p.name === presetSelect.value);
    if (!preset) return;
    document.getElementById("preset-hint").textContent = preset.description + missingNote;
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
    drawNetworkDiagram($("#network-diagram"), ws, ["input", ...state.spec.layers.map((l) => l.activation), HEAD[info.task]]);
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
    let first = null, marked = 0;
    for (const { path, msg } of located) {
      const target = errorSlot(path);
      if (!target) continue;
      marked++;
      target.slot.textContent = target.slot.textContent ? `${target.slot.textContent}; ${msg}` : msg;
      const input = form.querySelector(`[data-path="${CSS.escape(target.path)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    }
    if (first) first.focus();
    return marked;
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
    document.getElementById("preset-hint").textContent = (preset ? preset.description : PRESET_HINT) + missingNote;
  }

  return { render, showErrors, clearErrors, redrawPreview, showPreset, datasetInfo: (name) => byName[name] };
}
