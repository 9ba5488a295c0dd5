// The numerical gradient check on the inspect page: for a few weights of each layer,
// backprop's gradient beside central differences (L(w+ε) − L(w−ε)) / 2ε, with the
// relative error and a ✓ under 1e-4. The rows come with the trace
// (POST /api/models/{id}/trace, `gradient_check`); this module only shows them.

import { el } from "./dom.js";
import { exact } from "./heatmap.js";
import { paramName } from "./stage_names.js";

const TOLERANCE = 1e-4;

/** Fill `tbody` with one row per checked entry: [{param, index, why, analytic, numeric, relative_error}]. */
export function renderGradcheck(tbody, rows) {
  tbody.replaceChildren(...rows.map((r) => {
    const ok = r.relative_error < TOLERANCE;
    return el("tr", { "data-param": r.param, "data-ok": String(ok) },
      el("td", { text: paramName(r.param) }),
      el("td", { text: `[${r.index.join(", ")}]` }),
      el("td", { class: "muted", text: r.why }),
      el("td", { class: "num", title: exact(r.analytic), text: r.analytic.toPrecision(8) }),
      el("td", { class: "num", title: exact(r.numeric), text: r.numeric.toPrecision(8) }),
      el("td", { class: "num", text: r.relative_error === 0 ? "0" : r.relative_error.toExponential(1) }),
      el("td", {
        class: ok ? "check-cell ok" : "check-cell bad", text: ok ? "✓" : "✗",
        "aria-label": ok ? "passes: relative error under 1e-4" : "fails: relative error 1e-4 or more",
      }));
  }));
}

/** Mark the rows of `param` ("dense0.W"), the parameter of the stage on view; null marks none. */
export function highlightGradRows(tbody, param) {
  for (const tr of tbody.rows) tr.classList.toggle("current", !!param && tr.dataset.param === param);
}
