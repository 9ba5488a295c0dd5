// Line charts with uPlot (vendored, loaded by a classic <script>, so window.uPlot):
// the run's loss, accuracy (or MSE and R²) and learning rate, the per-layer
// gradient norms, and the loss of several runs overlaid.

import { num } from "./format.js";

export const COLORS = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
const TRAIN = COLORS[0], VAL = COLORS[1];

/**
 * A uPlot chart that fills its container's width and follows it when resized.
 * series: [{label, stroke, scale?, dash?}]; scales: uPlot scales besides x;
 * axes: the y axes. setData([xs, ...ys]) redraws; setLog() rebuilds with a log y scale.
 */
export function lineChart(el, { series, height = 170, yLog = false, yRange = null, axes = null, scales = null }) {
  let plot = null;
  let data = [[], ...series.map(() => [])];
  let log = yLog;

  function options() {
    const width = Math.max(200, el.clientWidth);
    const yScale = log ? { distr: 3, log: 10 } : {};
    if (!log && yRange) yScale.range = yRange;
    return {
      width, height,
      scales: { x: { time: false }, y: yScale, ...(scales || {}) },
      series: [
        { label: "epoch", value: legendValue((v) => String(v)) },
        ...series.map((s) => ({
          label: s.label, stroke: s.stroke, width: 2, scale: s.scale || "y", dash: s.dash,
          points: { show: (u, si, i0, i1) => i1 - i0 < 30 },
          value: legendValue((v) => num(v)),
        })),
      ],
      axes: [
        { stroke: "#475569", grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#e2e8f0" } },
        ...(axes || [{ scale: "y" }]).map((a) => ({
          stroke: "#475569", size: axisSize,
          ticks: { stroke: "#e2e8f0", filter: (u, splits) => (log ? splits.map((v) => (isPow10(v) ? v : null)) : splits) },
          // on a log scale, grid lines at the powers of ten only
          grid: { stroke: "#e2e8f0", show: a.side !== 1, filter: (u, splits) => (log ? splits.map((v) => (isPow10(v) ? v : null)) : splits) },
          values: (u, vals) => vals.map((v) => (v == null ? "" : num(v, 3))), ...a,
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
  }

  function build() {
    if (plot) plot.destroy();
    plot = new window.uPlot(options(), data, el);
  }

  build();
  let lastWidth = el.clientWidth;
  new ResizeObserver(() => {
    if (el.clientWidth && Math.abs(el.clientWidth - lastWidth) > 2) {
      lastWidth = el.clientWidth;
      plot.setSize({ width: Math.max(200, el.clientWidth), height });
    }
  }).observe(el);

  return {
    setData(next) {
      data = next;
      plot.setData(data);
      if (plot.cursor.idx == null) plot.setLegend({ idx: null }); // show the latest values
    },
    setLog(on) {
      if (on === log) return;
      log = on;
      build();
    },
  };
}

/** Stacked charts keep their plots aligned while every label fits this width. */
const MIN_AXIS_WIDTH = 54;

/** A y axis as wide as its longest tick label (a fixed width cut "1.00e-4" to ".00e-4"). */
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size; // uPlot asks again after laying out: keep the first answer
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
  u.ctx.font = axis.font[0];
  const text = longest ? u.ctx.measureText(longest).width / devicePixelRatio : 0;
  return Math.ceil(Math.max(MIN_AXIS_WIDTH, axis.ticks.size + axis.gap + text + 4));
}

const isPow10 = (v) => v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;

/** Legend value: the hovered point, or the latest one when the cursor is elsewhere. */
function legendValue(fmt) {
  return (u, v, si, idx) => {
    if (idx == null) {
      const ys = u.data[si] || [];
      for (let i = ys.length - 1; i >= 0; i--) if (ys[i] != null) return fmt(ys[i]);
      return "–";
    }
    return v == null ? "–" : fmt(v);
  };
}

const pick = (history, key) => history.map((m) => (m[key] === undefined ? null : m[key]));

/**
 * The run's three charts. reset() sets them up for a task (classification shows
 * accuracy; regression MSE and R²) and whether there is a validation split;
 * update(history) redraws from the list of epoch metrics.
 */
export function createRunCharts({ lossEl, metricEl, lrEl, metricTitle }, { logScale }) {
  let loss = null, metric = null, lr = null;
  let task = null, hasVal = false, log = logScale;

  function reset(newTask, withVal) {
    if (newTask === task && withVal === hasVal && loss) {
      update([]);
      return;
    }
    task = newTask;
    hasVal = withVal;
    for (const node of [lossEl, metricEl, lrEl]) node.replaceChildren();
    const lossSeries = [{ label: "train loss", stroke: TRAIN }];
    if (hasVal) lossSeries.push({ label: "val loss", stroke: VAL });
    loss = lineChart(lossEl, { series: lossSeries, yLog: log, height: 190 });
    if (task === "regression") {
      metricTitle.textContent = "MSE and R²";
      const ms = [{ label: "train MSE", stroke: TRAIN, scale: "y" }, { label: "train R²", stroke: COLORS[2], scale: "r2", dash: [6, 3] }];
      if (hasVal) ms.push({ label: "val MSE", stroke: VAL, scale: "y" }, { label: "val R²", stroke: COLORS[3], scale: "r2", dash: [6, 3] });
      metric = lineChart(metricEl, {
        series: ms, scales: { r2: { range: (u, min) => [Math.min(min ?? 0, 0), 1] } },
        axes: [{ scale: "y" }, { scale: "r2", side: 1 }],
      });
    } else {
      metricTitle.textContent = "Accuracy";
      const ms = [{ label: "train acc", stroke: TRAIN }];
      if (hasVal) ms.push({ label: "val acc", stroke: VAL });
      metric = lineChart(metricEl, { series: ms, yRange: [0, 1] });
    }
    lr = lineChart(lrEl, { series: [{ label: "learning rate", stroke: COLORS[3] }] });
    update([]);
  }

  function update(history) {
    if (!loss) return;
    const xs = history.map((m) => m.epoch);
    const lossData = [xs, pick(history, "train_loss")];
    if (hasVal) lossData.push(pick(history, "val_loss"));
    loss.setData(lossData);
    if (task === "regression") {
      const d = [xs, pick(history, "train_mse"), pick(history, "train_r2")];
      if (hasVal) d.push(pick(history, "val_mse"), pick(history, "val_r2"));
      metric.setData(d);
    } else {
      const d = [xs, pick(history, "train_accuracy")];
      if (hasVal) d.push(pick(history, "val_accuracy"));
      metric.setData(d);
    }
    lr.setData([xs, pick(history, "lr")]);
    // For tests and screen readers: how much is plotted, and the loss at both ends.
    lossEl.dataset.points = String(xs.length);
    metricEl.dataset.points = String(xs.length);
    lrEl.dataset.points = String(xs.length);
    if (xs.length) {
      lossEl.dataset.firstLoss = String(history[0].train_loss);
      lossEl.dataset.lastLoss = String(history[history.length - 1].train_loss);
      lossEl.setAttribute("aria-label", `Loss over ${xs.length} epochs: from ${num(history[0].train_loss)} to ${num(history[history.length - 1].train_loss)}`);
    } else {
      delete lossEl.dataset.firstLoss;
      delete lossEl.dataset.lastLoss;
    }
  }

  function setLog(on) {
    log = on;
    if (loss) loss.setLog(on);
  }

  return { reset, update, setLog };
}

/** One series per layer, e.g. gradient norms, on a log scale. */
export function createLayerChart(el) {
  let chart = null, names = [];
  return {
    update(history, key) {
      const layers = history.length ? history[history.length - 1].layers : [];
      const current = layers.map((l) => l.name);
      if (!chart || current.join() !== names.join()) {
        names = current;
        el.replaceChildren();
        chart = lineChart(el, {
          series: names.map((n, i) => ({ label: `‖∇${n}‖`, stroke: COLORS[i % COLORS.length] })),
          yLog: true, height: 130,
        });
      }
      chart.setData([history.map((m) => m.epoch), ...names.map((_, i) => history.map((m) => {
        const v = m.layers && m.layers[i] ? m.layers[i][key] : null;
        return v > 0 ? v : null;
      }))]);
    },
    clear() {
      chart = null;
      names = [];
      el.replaceChildren();
    },
  };
}

/** The training loss of several runs on one chart: runs = [{label, history}]. */
export function createCompareChart(el) {
  let chart = null, labels = "";
  return {
    setRuns(runs, log) {
      const key = runs.map((r) => r.label).join("|") + `|${log}`;
      if (!chart || key !== labels) {
        labels = key;
        el.replaceChildren();
        chart = lineChart(el, { series: runs.map((r, i) => ({ label: r.label, stroke: COLORS[i % COLORS.length] })), yLog: log, height: 200 });
      }
      const maxEpoch = Math.max(0, ...runs.map((r) => r.history.length ? r.history[r.history.length - 1].epoch : 0));
      const xs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
      const ys = runs.map((r) => {
        const byEpoch = new Map(r.history.map((m) => [m.epoch, m.train_loss]));
        return xs.map((e) => byEpoch.get(e) ?? null);
      });
      chart.setData([xs, ...ys]);
      el.dataset.series = String(runs.length);
    },
  };
}
