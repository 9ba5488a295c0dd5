// One stage of a trace (POST /api/models/{id}/trace) as pictures and numbers: a renderer
// per kind of stage (stage_names.js says what each is called). The page module decides
// which stage; this module fills the stage panel's body. No fetch.

import { el } from "./dom.js";
import { int } from "./format.js";
import { bars, barList, exact, heatMap, short } from "./heatmap.js";
import { count, dims, kindOf, paramName } from "./stage_names.js";

// -------------------------------------------------------------------------- building blocks

/** "28x28" for an image given as rows. */
const imageSize = (rows) => `${rows.length}x${rows[0].length}`;

/** Append a figure to the body; returns the element to draw into. */
function figure(body, title, caption = "") {
  const content = el("div", { class: "fig-content" });
  const fig = el("figure", { class: "fig" },
    el("figcaption", {}, el("strong", { text: title }), caption ? el("span", { class: "muted", text: ` ${caption}` }) : null),
    content);
  body.append(fig);
  return content;
}

function canvasIn(parent, cls = "") {
  const canvas = el("canvas", { class: cls });
  parent.append(canvas);
  return canvas;
}

/** min / max / mean / std / nonzero of an array, as the server summarised it. */
function summary(parent, s, label = "") {
  const size = count(s.shape || [1]);
  const items = [["min", short(s.min, 4)], ["max", short(s.max, 4)], ["mean", short(s.mean, 4)],
    ["std", short(s.std, 4)], ["nonzero", `${int(s.nonzero)} of ${int(size)}`]];
  const dl = el("dl", { class: "summary", "aria-label": `${label || "summary"}: min, max, mean, std, nonzero` });
  if (label) dl.append(el("div", { class: "summary-label" }, el("dt", { text: label })));
  for (const [k, v] of items) {
    const titles = { min: s.min, max: s.max, mean: s.mean, std: s.std };
    dl.append(el("div", {}, el("dt", { text: k }), el("dd", { text: v, title: k in titles ? exact(titles[k]) : v })));
  }
  parent.append(dl);
  return dl;
}

/** A vector: labelled HTML bars when short, canvas bars when long. */
function vector(parent, name, values, ctx, opts = {}) {
  if (values.length <= 16) {
    const list = barList(values, { name, ...opts });
    parent.append(list);
    return list;
  }
  bars(canvasIn(parent, "bars"), values, { name, readout: ctx.readout, ...opts });
  return null;
}

/** A matrix view {shape, summary, values?}: a heat map of every number when the server sent them. */
function matrix(parent, name, view, ctx, opts = {}) {
  if (!view.values) return false;
  const rows = Array.isArray(view.values[0]) ? view.values : [view.values];
  heatMap(canvasIn(parent, "heat"), rows, { name, readout: ctx.readout, rowName: "row", colName: "column", ...opts });
  parent.append(el("p", { class: "legend", text: "blue > 0 > orange; white is 0. Hover, or focus and use the arrow keys, for exact values." }));
  return true;
}

/** One column of a big matrix (the weights into one unit): a picture (H x W, as the input image), bars or its top entries. */
function column(parent, name, col, ctx, caption = "") {
  const box = el("div", { class: "column-view" });
  parent.append(box);
  if (caption) box.append(el("p", { class: "legend column-caption" }, el("strong", { text: name }), ` ${caption}`));
  if (col.image) {
    heatMap(canvasIn(box, "heat image"), col.image, { name: `${name} as ${imageSize(col.image)}`, readout: ctx.readout, square: true,
      cellMax: 7, rowName: "pixel row", colName: "col" });
  } else if (col.values) {
    vector(box, name, col.values, ctx);
  } else if (col.top_k) {
    topTable(box, name, col.top_k);
  }
  return box;
}

function topTable(parent, name, top) {
  const body = el("tbody");
  top.forEach((t, rank) => body.append(el("tr", {},
    el("td", { class: "num", text: String(rank + 1) }), el("td", { text: `[${t.index.join(", ")}]` }),
    el("td", { class: "num", title: exact(t.value), text: short(t.value, 5) }))));
  parent.append(el("div", { class: "table-scroll" }, el("table", { class: "stats top-k", "aria-label": `largest |${name}| entries` },
    el("thead", {}, el("tr", {}, el("th", { class: "num", text: "#" }), el("th", { text: "index [i, j]" }),
      el("th", { class: "num", text: name }))), body)));
}

function note(parent, text, cls = "callout") {
  if (text) parent.append(el("p", { class: cls, text }));
}

/** "✓ matches the engine's backward pass" */
function engineCheck(parent, check) {
  if (!check) return;
  parent.append(el("p", { class: check.matches ? "check ok" : "check bad" },
    `${check.matches ? "✓" : "✗"} the same as the engine's own backward pass for ${paramName(check.param)} `,
    el("span", { class: "muted", text: `(largest difference ${short(check.max_abs_diff)})` })));
}

/** This parameter's rows of the numerical gradient check. */
function gradRows(parent, trace, param) {
  const rows = trace.gradient_check.filter((r) => r.param === param);
  if (!rows.length) return;
  const worst = Math.max(...rows.map((r) => r.relative_error));
  const ok = rows.every((r) => r.relative_error < 1e-4);
  parent.append(el("p", { class: ok ? "check ok" : "check bad" },
    `${ok ? "✓" : "✗"} ${rows.length} entries of d${paramName(param)} checked against central differences; `,
    `worst relative error ${short(worst, 2)} `, el("a", { href: "#gradcheck-title", text: "(table)" })));
}

// -------------------------------------------------------------------------- the renderers

function labelsFor(trace, n) {
  if (trace.classes && trace.classes.length === n) return trace.classes;
  return null;
}

const RENDER = {
  input(stage, trace, body, ctx) {
    if (stage.image) {
      const box = figure(body, `x as a ${imageSize(stage.image)} image`,
        `${dims(stage.shape)}: ${int(count(stage.shape))} pixels in [0, 1], one row of the input matrix`);
      heatMap(canvasIn(box, "heat image"), stage.image, { name: "pixel", scale: "ink", square: true, cellMax: 9,
        readout: ctx.readout, rowName: "row", colName: "col" });
    } else {
      const box = figure(body, "x", dims(stage.shape));
      vector(box, "x", stage.values, ctx, { labels: ctx.features && ctx.features.length === stage.values.length ? ctx.features : null });
    }
    summary(body, stage.summary, "x");
    note(body, `A batch of one: the network sees x as a ${dims(stage.shape)} row, and each layer multiplies it by its weights.`, "note-plain");
  },

  z(stage, trace, body, ctx) {
    const l = stage.layer, u = stage.unit;
    const zBox = figure(body, `z${l}`, `${dims(stage.shape)}; ▲ marks unit ${u.index}, ${u.why}`);
    vector(zBox, `z${l}`, stage.values, ctx, { highlight: [u.index], labels: stage.role === "logits" ? labelsFor(trace, stage.values.length) : null });
    summary(zBox, stage.summary, `z${l}`);
    const [din, dout] = stage.W.shape;
    const wBox = figure(body, `W${l}`, `${dims(stage.W.shape)}: ${int(din * dout)} weights, row i = input ${l - 1 ? "unit" : trace.stages[0].image ? "pixel" : "feature"} i, column j = unit j`);
    if (!matrix(wBox, `W${l}`, stage.W, ctx)) {
      wBox.append(el("p", { class: "hint", text: `Too many to show them all; here is the column of weights into unit ${stage.W.columns[0].index} (${stage.W.columns[0].why}).` }));
    }
    if (!stage.W.values) {
      const row = el("div", { class: "columns" });
      wBox.append(row);
      for (const col of stage.W.columns) {
        column(row, `W${l}[:, ${col.index}]`, col, ctx, `the ${din} weights into unit ${col.index}, ${col.why}`);
        const input = trace.stages[0];
        if (col.image && input.image) { // each pixel's share of z: x ⊙ W[:, j]
          const product = input.image.map((r, i) => r.map((v, k) => v * col.image[i][k]));
          const box = column(row, `x ⊙ W${l}[:, ${col.index}]`, { image: product }, ctx,
            `each pixel times its weight: these ${din} products plus b${l}[${col.index}] sum to z${l}[${col.index}]`);
          box.classList.add("product");
        }
      }
    }
    summary(wBox, stage.W.summary, `W${l}`);
    const bBox = figure(body, `b${l}`, dims(stage.b.shape));
    vector(bBox, `b${l}`, stage.b.values, ctx);
    // One unit's z written out as its sum.
    const uBox = figure(body, `z${l}[${u.index}] written out`, `unit ${u.index}, ${u.why}`);
    const rows = el("tbody");
    for (const t of u.terms) {
      rows.append(el("tr", {}, el("td", { text: `a${l - 1}[${t.index}] · W${l}[${t.index}, ${u.index}]` }),
        el("td", { class: "num", title: exact(t.a), text: short(t.a, 4) }), el("td", { class: "num", title: exact(t.w), text: short(t.w, 4) }),
        el("td", { class: "num", title: exact(t.product), text: short(t.product, 4) })));
    }
    const all = u.terms.length === din;
    const rest = u.z - u.b - u.terms.reduce((s, t) => s + t.product, 0);
    const foot = el("tfoot");
    if (!all) foot.append(el("tr", {}, el("td", { text: `the other ${din - u.terms.length} products` }), el("td"), el("td"),
      el("td", { class: "num", text: short(rest, 4), title: exact(rest) })));
    foot.append(el("tr", {}, el("td", { text: `+ b${l}[${u.index}]` }), el("td"), el("td"), el("td", { class: "num", title: exact(u.b), text: short(u.b, 4) })));
    foot.append(el("tr", {}, el("th", { text: `= z${l}[${u.index}]` }), el("td"), el("td"), el("th", { class: "num", title: exact(u.z), text: short(u.z, 5) })));
    uBox.append(el("div", { class: "table-scroll" }, el("table", { class: "stats terms" },
      el("caption", { class: "hint", text: all ? "every term of the sum" : `the ${u.terms.length} largest of ${din} terms` }),
      el("thead", {}, el("tr", {}, el("th", { text: "term" }), el("th", { class: "num", text: "a" }), el("th", { class: "num", text: "w" }),
        el("th", { class: "num", text: "a · w" }))), rows, foot)));
  },

  a(stage, trace, body, ctx) {
    const l = stage.layer;
    const z = trace.stages.find((s) => s.name === `z${l}`);
    if (stage.zero_units !== undefined) {
      body.append(el("p", { class: "big-stat" }, el("strong", { text: `${stage.zero_units} of ${stage.units}` }),
        ` units are 0: their z${l} ≤ 0, and ReLU passes only positive values.`));
    } else if (stage.saturated_units !== undefined) {
      body.append(el("p", { class: "big-stat" }, el("strong", { text: `${stage.saturated_units} of ${stage.units}` }),
        ` units are saturated (on the flat part of ${stage.activation}, where the slope is nearly 0).`));
    }
    const mask = stage.values ? stage.values.map((v) => v !== 0) : null;
    if (z && z.values) {
      const zBox = figure(body, `z${l} (in)`, dims(z.shape));
      vector(zBox, `z${l}`, z.values, ctx, { mask: stage.activation === "relu" ? mask : null });
    }
    const aBox = figure(body, `a${l} = ${stage.activation}(z${l}) (out)`, `${dims(stage.shape)}; grey: units at 0`);
    vector(aBox, `a${l}`, stage.values, ctx, { mask: stage.activation === "relu" ? mask : null, highlight: [stage.most_active_unit] });
    summary(aBox, stage.summary, `a${l}`);
  },

  output(stage, trace, body, ctx) {
    const label = trace.label;
    if (stage.head === "softmax_ce") {
      const marks = {};
      marks[stage.predicted] = "predicted";
      if (typeof label === "number") marks[label] = label === stage.predicted ? "predicted, true" : "true";
      const box = figure(body, "p = softmax(z)", `${dims(stage.shape)}: one probability per class`);
      const list = barList(stage.values, { name: "p", labels: labelsFor(trace, stage.values.length), highlight: [stage.predicted], marks, signed: false, scale: 1 });
      list.id = "prob-bars";
      box.append(list);
      box.append(el("p", { class: "check ok", title: exact(stage.sum) },
        `Σ p = ${stage.sum.toFixed(6)}: softmax turns any logits into probabilities that sum to 1.`));
      note(body, `The prediction is the class with the largest p: ${stage.predicted} (p = ${short(stage.confidence, 4)}).`, "note-plain");
    } else if (stage.head === "sigmoid_bce") {
      const p = stage.values[0];
      const box = figure(body, "p = σ(z)", "one output unit: the probability of class 1");
      const list = barList([1 - p, p], { name: "P", labels: ["P(y = 0) = 1 − p", "P(y = 1) = p"], highlight: [stage.predicted], signed: false, scale: 1,
        marks: { [stage.predicted]: stage.predicted === label ? "predicted, true" : "predicted", ...(stage.predicted !== label ? { [label]: "true" } : {}) } });
      list.id = "prob-bars";
      box.append(list);
      note(body, `p ≥ 0.5 predicts class 1; here p = ${short(p, 4)}, so the prediction is ${stage.predicted}.`, "note-plain");
    } else {
      const box = figure(body, "ŷ", dims(stage.shape));
      vector(box, "ŷ", stage.values, ctx);
      if (Array.isArray(label)) { const t = figure(body, "y (target)", ""); vector(t, "y", label, ctx); }
    }
  },

  loss(stage, trace, body, ctx) {
    body.append(el("p", { class: "big-stat" }, "L = ", el("strong", { text: short(stage.value, 6), title: exact(stage.value) })));
    if (stage.p_label !== undefined) {
      const box = figure(body, "−log p", `the loss is −log of the probability given to the true class (${short(stage.p_label, 4)})`);
      box.append(logCurve(stage.p_label, stage.value));
      note(body, "A confident right answer (p near 1) costs almost nothing; a confident wrong one costs a lot.", "note-plain");
    } else {
      note(body, "The mean of the squared differences between ŷ and y.", "note-plain");
    }
  },

  dz_top(stage, trace, body, ctx) {
    const output = trace.stages.find((s) => s.name === "output");
    const labels = labelsFor(trace, stage.values.length);
    const row = el("div", { class: "fig-row" });
    body.append(row);
    const sym = output.symbol || "p";
    const regression = output.head === "mse";
    const scale = regression ? {} : { scale: 1 }; // probabilities and their errors lie in [-1, 1]
    const pBox = figure(row, sym, dims(output.shape));
    vector(pBox, sym, output.values, ctx, { labels, signed: true, ...scale });
    const yBox = figure(row, stage.values.length > 1 && output.head === "softmax_ce" ? "onehot(y)" : "y", "the target");
    vector(yBox, "y", stage.target, ctx, { labels, signed: true, ...scale });
    const dBox = figure(row, `dz${stage.layer}`, regression ? `2 (${sym} − y) / ${stage.values.length}` : `${sym} − y`);
    vector(dBox, `dz${stage.layer}`, stage.values, ctx, { labels, signed: true, ...scale });
    note(body, output.head === "mse"
      ? "Each output's error, scaled by 2/n: the slope of the mean squared error."
      : "Softmax and cross-entropy together have this simple slope: the predicted probability minus the target. "
        + "It pushes the true class's logit up and every other logit down.", "note-plain");
  },

  dW(stage, trace, body, ctx) {
    const l = stage.layer;
    const box = figure(body, `dW${l}`, `${dims(stage.shape)}: one gradient per weight`);
    if (!matrix(box, `dW${l}`, stage, ctx)) {
      box.append(el("p", { class: "hint", text: `${int(count(stage.shape))} numbers: here are the columns for the units that matter.` }));
      const cols = el("div", { class: "fig-row" });
      box.append(cols);
      const dz = trace.stages.find((s) => s.name === `dz${l}`);
      for (const col of stage.columns) {
        const j = col.index;
        const scaled = dz && dz.values ? ` = a${l - 1} · dz${l}[${j}], a${l - 1} scaled by ${short(dz.values[j], 3)}` : "";
        const c = figure(cols, `dW${l}[:, ${j}]`, `${col.why}${scaled}`);
        column(c, `dW${l}[:, ${j}]`, col, ctx);
      }
    }
    summary(box, stage.summary, `dW${l}`);
    note(body, stage.note);
    const top = figure(body, `The largest |dW${l}|`, `${stage.top_k.length} entries`);
    topTable(top, `dW${l}`, stage.top_k);
    engineCheck(body, stage.engine_check);
    gradRows(body, trace, stage.param);
  },

  db(stage, trace, body, ctx) {
    const box = figure(body, `db${stage.layer}`, dims(stage.shape));
    vector(box, `db${stage.layer}`, stage.values, ctx, { labels: labelsFor(trace, stage.values.length) });
    summary(box, stage.summary, `db${stage.layer}`);
    engineCheck(body, stage.engine_check);
    gradRows(body, trace, stage.param);
  },

  da(stage, trace, body, ctx) {
    const box = figure(body, `dL/da${stage.layer}`, `${dims(stage.shape)}: how the loss changes with each unit's output`);
    vector(box, `da${stage.layer}`, stage.values, ctx);
    summary(box, stage.summary, `da${stage.layer}`);
  },

  dz(stage, trace, body, ctx) {
    const l = stage.layer;
    const da = trace.stages.find((s) => s.name === `da${l}`);
    const d = stage.derivative;
    if (stage.blocked_units !== undefined) {
      body.append(el("p", { class: "big-stat" }, el("strong", { text: `${stage.blocked_units} of ${count(stage.shape)}` }),
        ` units pass no gradient: their z${l} ≤ 0, where ReLU's slope is 0.`));
    }
    if (da && da.values) vector(figure(body, `dL/da${l}`, "from the layer above"), `da${l}`, da.values, ctx);
    const mask = d.values ? d.values.map((v) => v !== 0) : null;
    const dBox = figure(body, `${stage.activation}′(z${l})`, d.formula);
    vector(dBox, `${stage.activation}'(z${l})`, d.values, ctx, { mask, height: 48 });
    const zBox = figure(body, `dL/dz${l} = dL/da${l} ⊙ ${stage.activation}′(z${l})`, "element by element");
    vector(zBox, `dz${l}`, stage.values, ctx, { mask });
    summary(zBox, stage.summary, `dz${l}`);
  },

  update(stage, trace, body, ctx) {
    const opt = stage.optimizer;
    const hyper = Object.entries(opt).filter(([k]) => k !== "name");
    const dl = el("dl", { class: "summary optimizer", "aria-label": "optimizer settings" },
      el("div", {}, el("dt", { text: "optimizer" }), el("dd", { text: opt.name })),
      ...hyper.map(([k, v]) => el("div", {}, el("dt", { text: GREEK[k] || k }), el("dd", { text: String(v) }))),
      el("div", {}, el("dt", { text: "step t" }), el("dd", { text: String(stage.t) })));
    body.append(dl);
    if (stage.bias_correction) {
      const b1 = stage.bias_correction["1-beta1^t"], b2 = stage.bias_correction["1-beta2^t"];
      note(body, `Bias correction at t = ${stage.t}: 1 − β1ᵗ = ${short(b1, 4)} and 1 − β2ᵗ = ${short(b2, 4)}, `
        + `so m̂ = m / ${short(b1, 4)} and v̂ = v / ${short(b2, 4)}. Without it the first steps would be far too small, `
        + "because m and v start at 0.", "note-plain");
    }
    lossBeforeAfter(body, trace);
    const grid = el("div", { class: "param-grid" });
    body.append(grid);
    for (const p of stage.parameters) {
      const name = paramName(p.param);
      const box = figure(grid, name, `${dims(p.delta.shape)} · the ${p.entries.length} entries with the largest |g| written out`);
      // One column per entry, one row per quantity, in the order the update computes them.
      const keys = Object.keys(p.entries[0] || {}).filter((k) => k !== "index");
      const head = el("tr", {}, el("th", { text: `${name}[…]` }),
        ...p.entries.map((e) => el("th", { class: "num", text: `[${e.index.join(", ")}]` })));
      const rows = el("tbody");
      for (const k of keys) {
        rows.append(el("tr", {}, el("th", { scope: "row", text: COLUMN[k] || k }),
          ...p.entries.map((e) => el("td", { class: "num", title: exact(e[k]), text: short(e[k], 5) }))));
      }
      box.append(el("div", { class: "table-scroll" }, el("table", { class: "stats update-entries" }, el("thead", {}, head), rows)));
      if (p.delta.values && (p.delta.shape.length === 1 || count(p.delta.shape) <= 64)) {
        const rowsOf = Array.isArray(p.delta.values[0]) ? p.delta.values : null;
        if (rowsOf) heatMap(canvasIn(box, "heat"), rowsOf, { name: `Δ${name}`, readout: ctx.readout, maxHeight: 160 });
        else vector(box, `Δ${name}`, p.delta.values, ctx);
      }
      summary(box, p.delta.summary, `Δ${name}`);
      box.append(el("p", { class: p.hand_check.matches ? "check ok" : "check bad" },
        `${p.hand_check.matches ? "✓" : "✗"} the engine's step equals the formula worked by hand `,
        el("span", { class: "muted", text: `(largest difference ${short(p.hand_check.max_abs_diff)})` })));
    }
    note(body, stage.note, "note-plain");
  },

  loss_after_step(stage, trace, body, ctx) {
    lossBeforeAfter(body, trace);
  },
};

const GREEK = { lr: "lr", beta1: "β1", beta2: "β2", eps: "ε", momentum: "μ", rho: "ρ", weight_decay: "weight decay" };
const COLUMN = { w: "w", g: "g = dL/dw", m: "m", v: "v", m_hat: "m̂", v_hat: "v̂", velocity: "v (velocity)",
  square_avg: "s", delta: "Δw", w_new: "w + Δw" };

function lossBeforeAfter(body, trace) {
  const change = trace.loss_after_step - trace.loss;
  const box = figure(body, "The loss before and after one step", "on this same example");
  const list = barList([trace.loss, trace.loss_after_step], { name: "L", labels: ["before, L", "after, L′"], signed: false });
  list.id = "loss-bars";
  box.append(list);
  body.append(el("p", { class: "big-stat" }, "L′ − L = ",
    el("strong", { text: short(change, 4), title: exact(change) }),
    change < 0 ? ": one step downhill, the loss fell." : ": the loss did not fall; try a smaller learning rate."));
}

/** −log p for p in (0, 1], with this example's point marked. */
function logCurve(p, loss) {
  const ns = "http://www.w3.org/2000/svg";
  const W = 320, H = 150, pad = 28;
  const maxL = Math.max(4.6, loss * 1.1);
  const x = (v) => pad + v * (W - pad - 8);
  const y = (v) => 8 + (1 - Math.min(v, maxL) / maxL) * (H - pad - 8);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "log-curve");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `the curve −log p, with p = ${p} and L = ${loss} marked`);
  const pts = [];
  for (let i = 1; i <= 100; i++) { const v = i / 100; pts.push(`${x(v).toFixed(1)},${y(-Math.log(v)).toFixed(1)}`); }
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    svg.append(n);
    return n;
  };
  add("line", { x1: pad, y1: H - pad, x2: W - 8, y2: H - pad, class: "axis" });
  add("line", { x1: pad, y1: 8, x2: pad, y2: H - pad, class: "axis" });
  add("polyline", { points: pts.join(" "), class: "curve" });
  add("circle", { cx: x(p), cy: y(loss), r: 5, class: "point" });
  add("text", { x: pad, y: H - 10, class: "tick" }, "0");
  add("text", { x: W - 14, y: H - 10, class: "tick" }, "1");
  add("text", { x: (pad + W) / 2, y: H - 4, class: "tick", "text-anchor": "middle" }, "p of the true class");
  add("text", { x: 4, y: 16, class: "tick" }, short(maxL, 2));
  const right = x(p) > W / 2;
  add("text", { x: x(p) + (right ? -10 : 10), y: Math.max(y(loss) - 10, 14), class: "label", "text-anchor": right ? "end" : "start" },
    `p = ${short(p, 3)}, L = ${short(loss, 3)}`);
  return svg;
}

/**
 * Fill `body` with the pictures and numbers of `stage`.
 * ctx: {readout(text), features (input names)}.
 */
export function renderStage(body, stage, trace, ctx) {
  body.replaceChildren();
  const render = RENDER[kindOf(stage, trace)];
  if (render) render(stage, trace, body, ctx);
  else summary(body, stage.summary, stage.name);
}
