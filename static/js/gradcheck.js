// The numerical gradient check on the inspect page: for a few weights of each layer,
// backprop's gradient beside central differences (L(w+ε) − L(w−ε)) / 2ε, with the
// relative error |a − n| / max(|a| + |n|, 1e-4) and a ✓ under 1e-4. The rows come with the trace
// (POST /api/models/{id}/trace, `gradient_check`); this module only shows them.

import { el } from "./dom.js";
import { exact } from "./heatmap.js";
import { paramName } from "./stage_names.js";

const TOLERANCE = 1e-4;
/** The least denominator of the relative error (mlp_engine/gradcheck.py RELATIVE_ERROR_FLOOR):
 * two tiny gradients are judged on that absolute scale, not against each other. */
const FLOOR = 1e-4, FLOOR_TEXT = "1e-4";
const e2 = (v) => (v === 0 ? "0" : v.toExponential(2));

/** The relative error's cell: the value, and how it was computed (a * when the floor was the denominator). */
function errorCell(r) {
  const sum = Math.abs(r.analytic) + Math.abs(r.numeric);
  const floored = sum < FLOOR;
  const text = r.relative_error === 0 ? "0" : r.relative_error.toExponential(1);
  return el("td", {
    class: "num", "data-floored": String(floored), text: floored ? `${text}*` : text,
    title: `|a − n| / max(|a| + |n|, ${FLOOR_TEXT}) = ${e2(Math.abs(r.analytic - r.numeric))} / ${floored ? `${FLOOR_TEXT} (the floor: |a| + |n| = ${e2(sum)})` : e2(sum)}`,
  });
}

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
      errorCell(r),
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
