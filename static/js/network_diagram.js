// The builder's network diagram: one column of nodes per layer, every edge between
// neighbouring columns, each layer's width and activation below it. Wide layers show
// their first nodes and "…512".

const NS = "http://www.w3.org/2000/svg";
const MAX_NODES = 8; // nodes drawn per layer

/** Draw into `svg` the layers of widths `ws` ([784, 128, 10]) with `acts` (["input", "relu", "softmax"]). */
export function drawNetworkDiagram(svg, ws, acts) {
  const counts = ws.map((n) => (Number.isInteger(n) && n > 0 ? n : 0));
  const tallest = Math.max(1, ...counts.map((n) => Math.min(n, MAX_NODES)));
  const step = 18, top = 12, bottom = 34, r = 6;
  const W = 360, H = top + bottom + step * tallest;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
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
