// Where a classifier goes wrong, on the inspect page: the confusion matrix of its test
// set (GET /api/models/{id}/evaluation) and a gallery of its mistakes, most confident
// first, as thumbnails when its inputs are images. A cell of the matrix filters the
// gallery; a thumbnail opens that example in the step-through (onPick).

import * as api from "./api.js";
import { el } from "./dom.js";
import { int, pct } from "./format.js";
import { heatMap, short } from "./heatmap.js";

const GALLERY_PAGE = 24;

/**
 * ids: the elements of templates/_inspect_confusion.html
 *   {panel, table, summary, message, gallery, filter, more}.
 * onPick(split, index): a thumbnail was chosen.
 * Returns {load(model, imageShape), markTraced(source)}.
 */
export function createConfusionPanel(ids, { onPick }) {
  const { panel, table, summary, message, gallery, filter, more } = ids;
  let model = null;
  let imageShape = null;  // [H, W] when the model's inputs are images
  let evaluation = null;
  let picked = null;      // [true, predicted]: the gallery shows only these mistakes
  let pickedItems = [];   // that cell's own mistakes, loaded when it was picked
  let shown = GALLERY_PAGE;
  let traced = null;      // the trace's source, to outline its thumbnail
  let seq = 0;            // the latest load or cell pick: an older one's answer is dropped
  let renders = 0;        // the latest gallery drawing: an older one, still fetching thumbnails, gives way
  const pixels = new Map(); // dataset index -> (H, W) rows, for the thumbnails

  /** Evaluate `model` (a record from GET /api/models) on its test split and show the result. */
  async function load(m, shape) {
    const mine = ++seq;
    model = m;
    imageShape = shape;
    evaluation = null;
    picked = null;
    pixels.clear();
    panel.dataset.state = "loading";
    table.hidden = true;
    gallery.replaceChildren();
    more.hidden = true;
    filter.textContent = "";
    summary.textContent = "";
    message.textContent = "Computing the confusion matrix on the test set…";
    const task = m.metrics && m.metrics.dataset && m.metrics.dataset.task;
    if (m.architecture.head === "mse" || task === "regression") {
      message.textContent = "This is a regression model: it has no classes, so no confusion matrix. "
        + "Its test metrics are in the model's record.";
      panel.dataset.state = "none";
      return;
    }
    try {
      const ev = await api.evaluation(m.id, "test", 100);
      if (mine !== seq) return;
      evaluation = ev;
      shown = GALLERY_PAGE;
      renderMatrix();
      await renderGallery();
      panel.dataset.state = "ready";
    } catch (err) {
      if (mine !== seq) return;
      message.textContent = err.status === 422
        ? `No confusion matrix for this model: ${err.detail}`
        : `Could not evaluate this model: ${err.detail || err}`;
      panel.dataset.state = err.status === 422 ? "none" : "error";
    }
  }

  function renderMatrix() {
    const ev = evaluation;
    const c = (k) => ev.classes[k];
    summary.textContent = `${ev.dataset}, ${ev.split} set: ${int(ev.n)} examples · accuracy ${pct(ev.accuracy)} · loss ${short(ev.loss, 4)}`;
    const worst = ev.most_confused[0];
    message.textContent = worst
      ? `Most often confused: true ${c(worst.true)} predicted as ${c(worst.predicted)} (${int(worst.count)} times).`
      : "No mistakes on this split.";
    const corner = el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "true class, then predicted:" }), "true ↓ pred →");
    table.tHead.replaceChildren(el("tr", {}, corner,
      ...ev.classes.map((name) => el("th", { scope: "col", text: name })),
      el("th", { scope: "col", class: "num", text: "acc." }),
      el("th", { scope: "col", class: "num", text: "n" })));
    table.tBodies[0].replaceChildren(...ev.confusion.map((row, t) => el("tr", {},
      el("th", { scope: "row", text: c(t) }),
      ...row.map((n, p) => cell(n, t, p)),
      el("td", { class: "num", text: ev.per_class_accuracy[t] === null ? "–" : pct(ev.per_class_accuracy[t]) }),
      el("td", { class: "num muted", text: int(ev.class_counts[t]) }))));
    table.hidden = false;
  }

  /** The cell of `n` examples of class t predicted as p: a button when they are mistakes. */
  function cell(n, t, p) {
    const ev = evaluation;
    const c = (k) => ev.classes[k];
    const frac = n / (ev.class_counts[t] || 1);
    const td = el("td", {
      class: `cm ${t === p ? "diag" : "off"}${frac > 0.55 ? " strong" : ""}`,
      title: `true ${c(t)}, predicted ${c(p)}: ${n} of ${ev.class_counts[t]} (${pct(frac)})`,
    });
    td.style.setProperty("--a", frac.toFixed(3));
    if (t !== p && n > 0) {
      const b = el("button", {
        type: "button", "data-true": String(t), "data-pred": String(p), text: String(n),
        "aria-label": `${n} examples of ${c(t)} predicted as ${c(p)}: show them`,
      });
      b.addEventListener("click", () => showOnly([t, p]));
      td.append(b);
    } else {
      td.textContent = String(n);
    }
    return td;
  }

  /** Show one cell's mistakes (pair = [true, predicted]), all of them (up to the route's
   * 1000), loaded for the cell: the first evaluation lists only the most confident overall. */
  async function showOnly(pair) {
    const mine = ++seq;
    if (pair) {
      const n = evaluation.confusion[pair[0]][pair[1]];
      try {
        const ev = await api.evaluation(model.id, evaluation.split, Math.min(n, 1000), pair);
        if (mine !== seq) return;
        pickedItems = ev.misclassified;
      } catch (err) {
        if (mine !== seq) return;
        filter.textContent = `Could not load these mistakes: ${err.detail || err}`;
        return;
      }
    }
    picked = pair;
    shown = GALLERY_PAGE;
    renderGallery();
  }

  function galleryItems() {
    return picked ? pickedItems : evaluation.misclassified;
  }

  /** Rows of the split for the thumbnails not yet fetched; a thumbnail is a nicety, so a failure only leaves numbers. */
  async function fetchPixels(indices) {
    const need = imageShape ? indices.filter((i) => !pixels.has(i)) : [];
    if (!need.length) return;
    try {
      const got = await api.examples(model.id, need, evaluation.split);
      const [H, W] = got.input_shape || imageShape;
      for (const e of got.examples) {
        pixels.set(e.index, Array.from({ length: H }, (_, r) => e.x.slice(W * r, W * r + W)));
      }
    } catch {
      // without them the gallery lists the numbers only
    }
  }

  async function renderGallery() {
    const ev = evaluation;
    const c = (k) => ev.classes[k];
    const items = galleryItems();
    const page = items.slice(0, shown);
    if (picked) {
      const all = el("button", { type: "button", class: "small", id: "gallery-all", text: "Show all mistakes" });
      all.addEventListener("click", () => showOnly(null));
      const n = ev.confusion[picked[0]][picked[1]];
      const listed = items.length === n ? `all ${int(n)} listed` : `${int(items.length)} of ${int(n)} listed, the most confident`;
      filter.replaceChildren(`True ${c(picked[0])} predicted as ${c(picked[1])}: ${listed}, most confident first. `, all);
    } else {
      filter.textContent = ev.n_misclassified
        ? `${int(ev.n_misclassified)} mistakes; the ${Math.min(items.length, ev.n_misclassified)} most confident are listed, most confident first. Pick one to step through it.`
        : "";
    }
    const mine = ++renders;
    await fetchPixels(page.map((m) => m.index));
    if (mine !== renders) return; // a later render (another cell picked meanwhile) draws the gallery
    gallery.replaceChildren();
    for (const m of page) {
      const b = el("button", {
        type: "button", class: "thumb", "data-index": String(m.index),
        "aria-label": `${ev.split} example ${m.index}: true ${c(m.true)}, predicted ${c(m.predicted)} with p = ${short(m.confidence, 3)}; step through it`,
        title: `#${m.index}: true ${c(m.true)}, predicted ${c(m.predicted)} (p = ${short(m.confidence, 3)}; p of the true class ${short(m.p_true, 3)})`,
      });
      b.addEventListener("click", () => onPick(ev.split, m.index));
      gallery.append(el("li", {}, b));
      if (pixels.has(m.index)) {
        const canvas = el("canvas");
        b.append(canvas);
        heatMap(canvas, pixels.get(m.index), { scale: "ink", square: true, cellMax: 2, hover: false });
      } else {
        b.append(el("span", { class: "thumb-index", text: `#${m.index}` }));
      }
      b.append(el("span", { class: "thumb-cap", text: `${c(m.true)}→${c(m.predicted)} ${Math.round(100 * m.confidence)}%` }));
    }
    markTraced(traced);
    more.hidden = items.length <= shown;
    if (!page.length && ev.n_misclassified === 0) {
      gallery.append(el("li", { class: "muted", text: "Every test example is classified correctly." }));
    }
  }

  /** Outline the thumbnail of the example being traced (source: the trace's), if it is one. */
  function markTraced(source) {
    traced = source;
    for (const b of gallery.querySelectorAll(".thumb")) {
      const on = !!(source && evaluation && source.kind === "dataset" && source.split === evaluation.split
        && Number(b.dataset.index) === source.index);
      b.setAttribute("aria-pressed", String(on));
    }
  }

  more.addEventListener("click", () => { shown += GALLERY_PAGE; renderGallery(); });

  return { load, markTraced };
}
