// What the network predicts over its input space, redrawn whenever an epoch
// event carries a `view`: for a 2-D classifier the decision boundary as a heat
// map under the training points (as TensorFlow Playground); for a 1-D
// regression the fitted curve over the points.

import { classColor, classLegend, drawAxes, drawPoints, fitCanvas, frame, hexToRgb, span } from "./canvas.js";

const MARGIN = { left: 30, right: 8, top: 8, bottom: 16 };

export function createBoundary({ canvas, epochLabel, legend, title }) {
  let info = null;      // the dataset's entry from GET /api/datasets
  let points = [];      // [[x, y, label]] training points to draw over the picture
  let view = null, epoch = null;

  function setMessage(text) {
    canvas.parentElement.hidden = true;
    canvas.dataset.drawn = "false";
    legend.textContent = text;
  }

  function draw() {
    if (!info) return;
    if (!view) {
      const { ctx, w, h } = fitCanvas(canvas, 1);
      canvas.dataset.drawn = "false";
      if (points.length && supports(info)) { // the points alone until the first picture
        const f = frame(w, h, span(points.map((p) => p[0])), span(points.map((p) => p[1])), MARGIN);
        drawPoints(ctx, f, points, { regression: info.task === "regression" });
        drawAxes(ctx, f);
      }
      return;
    }
    if (view.kind === "decision_grid") drawGrid();
    else if (view.kind === "curve") drawCurve();
    canvas.dataset.drawn = "true";
    canvas.dataset.epoch = String(epoch);
    epochLabel.textContent = epoch ? `epoch ${epoch}` : "";
  }

  function drawGrid() {
    const { ctx, w, h } = fitCanvas(canvas, 1);
    const f = frame(w, h, view.x_range, view.y_range, MARGIN);
    const R = view.resolution;
    const K = Math.max(2, info.classes.length);
    const rgb = Array.from({ length: K }, (_, k) => hexToRgb(classColor(k)));
    const img = new ImageData(R, R);
    for (let row = 0; row < R; row++) {
      for (let col = 0; col < R; col++) {
        const i = row * R + col; // row 0 is the lowest y
        const k = view.predicted[i];
        const c = view.confidence[i];
        // 1/K (a coin toss) -> white; 1 (certain) -> a strong tint of the class colour
        const t = Math.max(0, Math.min(1, (c - 1 / K) / (1 - 1 / K))) * 0.75;
        const o = 4 * ((R - 1 - row) * R + col);
        for (let ch = 0; ch < 3; ch++) img.data[o + ch] = Math.round(255 + (rgb[k][ch] - 255) * t);
        img.data[o + 3] = 255;
      }
    }
    const tile = document.createElement("canvas");
    tile.width = R; tile.height = R;
    tile.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tile, f.left, f.top, f.width, f.height);
    drawPoints(ctx, f, points);
    drawAxes(ctx, f);
  }

  function drawCurve() {
    const { ctx, w, h } = fitCanvas(canvas, 1);
    const ys = [...view.y, ...points.map((p) => p[1])];
    const f = frame(w, h, [view.x[0], view.x[view.x.length - 1]], span(ys), MARGIN);
    drawPoints(ctx, f, points, { regression: true, radius: 2.5 });
    ctx.beginPath();
    view.x.forEach((x, i) => (i ? ctx.lineTo(f.x(x), f.y(view.y[i])) : ctx.moveTo(f.x(x), f.y(view.y[i]))));
    ctx.strokeStyle = "#f97316";
    ctx.lineWidth = 3;
    ctx.stroke();
    drawAxes(ctx, f);
  }

  return {
    /** A new run on dataset `datasetInfo`: forget the old picture. */
    reset(datasetInfo) {
      info = datasetInfo;
      points = [];
      view = null;
      epoch = null;
      epochLabel.textContent = "";
      canvas.dataset.drawn = "false";
      canvas.parentElement.hidden = false;
      if (!supports(info)) {
        title.textContent = "Prediction";
        setMessage(`Pictures are drawn for 2-D datasets (decision boundary) and for sine (fitted curve); ${info.name} has ${info.n_features} inputs.`);
        return;
      }
      title.textContent = info.task === "regression" ? "Fitted curve" : "Decision boundary";
      legend.replaceChildren(...(info.task === "regression"
        ? ["Dots: training points. Orange: what the network predicts."]
        : ["Background: predicted class (paler = less sure). Dots: training points. ", ...classLegend(info.classes)]));
      draw();
    },
    /** The training points, from GET /api/datasets/{name}/samples. */
    setPoints(samples) {
      points = info.task === "regression"
        ? samples.X.map((x, i) => [x[0], samples.y[i][0], 0])
        : samples.X.map((x, i) => [x[0], x[1], samples.y[i]]);
      draw();
    },
    setView(nextView, nextEpoch) {
      if (!nextView || !info || !supports(info)) return;
      view = nextView;
      epoch = nextEpoch;
      draw();
    },
    redraw: draw,
    /** The name of the dataset the panel is set up for. */
    dataset: () => info && info.name,
    supports: () => Boolean(info && supports(info)),
  };
}

function supports(info) {
  return (info.n_features === 2 && info.task !== "regression") || (info.n_features === 1 && info.task === "regression");
}
