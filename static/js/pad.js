// The drawing pad, shared by the draw panel and the inspect page: a canvas the learner
// draws one digit on with a mouse, a finger or a pen (Pointer Events), and the small
// picture of what the network gets back (the server's preprocessed digit).
//
// Strokes are kept as point lists in the canvas's own pixels (280x280), so Undo drops
// the last one and repaints the rest.

import { paintInk } from "./canvas.js";

const INK = "#0f172a";

/**
 * A pad on `canvas`.
 * brush(): the width in canvas pixels of a stroke about to start.
 * onChange({final}): after every change; `final` when a stroke ended, or after undo or clear.
 * Ctrl+Z on the focused canvas undoes. canvas.dataset.strokes counts the strokes.
 * Returns {undo(), clear(), isEmpty(), drawing} (`drawing`: a stroke is under way).
 */
export function createDrawingPad(canvas, { brush = () => 20, onChange = () => {} } = {}) {
  const ctx = canvas.getContext("2d");
  const strokes = []; // [{size, points: [[x, y], ...]}]
  let active = null;  // {pointerId, stroke} while a stroke is drawn

  function pen(size) {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function paint(stroke) {
    const pts = stroke.points;
    pen(stroke.size);
    ctx.beginPath();
    if (pts.length === 1) {
      ctx.arc(pts[0][0], pts[0][1], stroke.size / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.moveTo(pts[0][0], pts[0][1]);
    for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.stroke();
  }

  function repaint() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const s of strokes) paint(s);
    canvas.dataset.strokes = String(strokes.length);
  }

  /** A pointer event's position in canvas pixels (the canvas may be shown smaller). */
  function pointFrom(event) {
    const rect = canvas.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * canvas.width;
    const y = ((event.clientY - rect.top) / rect.height) * canvas.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (active || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    canvas.focus({ preventScroll: true }); // so that Ctrl+Z reaches it
    canvas.setPointerCapture(event.pointerId);
    const stroke = { size: brush(), points: [pointFrom(event)] };
    active = { pointerId: event.pointerId, stroke };
    strokes.push(stroke);
    repaint();
    onChange({ final: false });
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!active || event.pointerId !== active.pointerId) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const pts = active.stroke.points;
    const from = pts[pts.length - 1];
    for (const e of (events.length ? events : [event])) pts.push(pointFrom(e));
    // extend the stroke on screen by the new segment(s) only
    pen(active.stroke.size);
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    for (let i = pts.length - (events.length || 1); i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
    ctx.stroke();
    onChange({ final: false });
  });

  function endStroke(event) {
    if (!active || event.pointerId !== active.pointerId) return;
    active = null;
    onChange({ final: true });
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  function undo() {
    if (active || !strokes.length) return;
    strokes.pop();
    repaint();
    onChange({ final: true });
  }

  function clear() {
    if (active) return;
    strokes.length = 0;
    repaint();
    onChange({ final: true });
  }

  canvas.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    }
  });

  repaint();
  return {
    undo,
    clear,
    isEmpty: () => strokes.length === 0,
    get drawing() { return active !== null; },
  };
}

/**
 * Show the digit the network gets, `image`: (H, W) rows in [0, 1] (as the server
 * preprocessed the drawing), as dark ink on white, one canvas pixel per input pixel;
 * null blanks it. canvas.dataset: drawn ("true"/"false") and ink (the sum of the pixels).
 */
export function showNetworkInput(canvas, image) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!image) {
    canvas.dataset.drawn = "false";
    canvas.dataset.ink = "0";
    return;
  }
  const H = image.length, W = image[0].length;
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
  const img = ctx.createImageData(W, H);
  const ink = paintInk(img, image);
  ctx.putImageData(img, 0, 0);
  canvas.dataset.drawn = "true";
  canvas.dataset.ink = ink.toFixed(2);
}
