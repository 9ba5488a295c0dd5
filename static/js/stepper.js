// The inspect page's step-through: a trace's stages listed phase by phase (forward, loss,
// backward, update) and the one on view in the stage panel, with its title, formula,
// shapes and pictures (stages.js). ← and → step, Home and End jump, and so do the
// buttons and the list. Elements: templates/_inspect_stages.html and _inspect_stage.html.

import { el } from "./dom.js";
import { PHASES, kindOf, shapesOf, shortOf, titleOf } from "./stage_names.js";
import { renderStage } from "./stages.js";

const $ = (sel) => document.querySelector(sel);
const HOVER_HINT = "Hover over a heat map or a bar, or focus one and use the arrow keys, for exact values.";

/** The pictures explain these kinds' notes themselves; the others show the stage's note above them. */
const NOTE_IN_BODY = new Set(["z", "dW", "dz", "update"]);

/**
 * features(): the input's feature names (for bar labels).
 * onShow(stage): a stage came on view.
 * Returns {setTrace(trace, landOn), stage()}: show a new trace, on the stage named
 * `landOn` when it has one (else the first); the stage on view (null before a trace).
 */
export function createStepper({ features, onShow }) {
  let trace = null;
  let index = 0;
  const readout = (text) => { $("#hover-readout").textContent = text; };

  function renderList() {
    const list = $("#stage-list");
    list.replaceChildren();
    for (const phase of PHASES) {
      const items = trace.stages.map((s, i) => [s, i]).filter(([s]) => s.phase === phase);
      if (!items.length) continue;
      const ol = el("ol", { class: "stage-items", start: String(items[0][1] + 1) },
        ...items.map(([s, i]) => el("li", {}, el("button", {
          type: "button", class: "stage-item", "data-i": String(i), "data-phase": phase,
          "aria-label": `${i + 1}: ${titleOf(s, trace)}`,
        }, el("span", { class: "stage-name", text: s.name === "loss_after_step" ? "loss after" : s.name }),
        el("span", { class: "stage-desc", text: shortOf(s, trace) })))));
      list.append(el("h3", { class: `phase-head phase-${phase}`, text: phase }), ol);
    }
  }

  function drawBody() {
    renderStage($("#stage-body"), trace.stages[index], trace, { readout, features: features() });
  }

  function show() {
    const i = index, stage = trace.stages[i], n = trace.stages.length;
    const kind = kindOf(stage, trace);
    const panel = $("#stage");
    panel.dataset.stage = stage.name;
    panel.dataset.phase = stage.phase;
    panel.dataset.index = String(i);
    panel.dataset.kind = kind;
    $("#stage-title").textContent = titleOf(stage, trace);
    const badge = $("#stage-phase");
    badge.textContent = stage.phase;
    badge.dataset.phase = stage.phase;
    $("#stage-formula").textContent = stage.formula;
    $("#stage-shapes").textContent = shapesOf(stage);
    const inBody = NOTE_IN_BODY.has(kind) || (kind === "a" && stage.activation === "relu");
    const note = $("#stage-note");
    note.textContent = inBody ? "" : (stage.note || "");
    note.hidden = !note.textContent;
    readout(HOVER_HINT);
    drawBody();
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
    const current = $("#stage-list [aria-current=step]");
    if (current) reveal(current);
    for (const b of document.querySelectorAll("#prev-stage, .stage-prev")) b.disabled = i === 0;
    for (const b of document.querySelectorAll("#next-stage, .stage-next")) b.disabled = i === n - 1;
    $("#stage-status").textContent = `Stage ${i + 1} of ${n}, ${stage.phase}: ${titleOf(stage, trace)}`;
    onShow(stage);
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
    const side = $(".inspect-side");
    if (side.scrollHeight > side.clientHeight) {
      const r = side.getBoundingClientRect();
      if (ir.top < r.top) side.scrollTop -= r.top - ir.top + 8;
      else if (ir.bottom > r.bottom) side.scrollTop += ir.bottom - r.bottom + 8;
    }
  }

  function go(i) {
    if (!trace) return;
    const next = Math.max(0, Math.min(trace.stages.length - 1, i));
    if (next === index) return;
    index = next;
    show();
  }

  for (const b of document.querySelectorAll("#prev-stage, .stage-prev")) b.addEventListener("click", () => go(index - 1));
  for (const b of document.querySelectorAll("#next-stage, .stage-next")) b.addEventListener("click", () => go(index + 1));
  $("#stage-list").addEventListener("click", (e) => {
    const b = e.target.closest(".stage-item");
    if (b) go(Number(b.dataset.i));
  });
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (t.closest && t.closest("input, select, textarea, [contenteditable=true], canvas")) return;
    const moves = { ArrowRight: () => go(index + 1), ArrowLeft: () => go(index - 1), Home: () => go(0), End: () => go(Infinity) };
    if (moves[e.key] && trace) {
      e.preventDefault();
      moves[e.key]();
    }
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (trace) drawBody(); }, 200);
  });

  return {
    setTrace(t, landOn) {
      trace = t;
      const at = t.stages.findIndex((s) => s.name === landOn);
      index = at >= 0 ? at : 0;
      renderList();
      show();
    },
    stage: () => (trace ? trace.stages[index] : null),
  };
}
