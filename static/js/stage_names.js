// What each stage of a trace (POST /api/models/{id}/trace) is called: its kind, its
// heading, its few characters in the stage list, its shapes line, and the formulas'
// parameter names. Words only; stages.js draws the stages.

import { int } from "./format.js";

export const PHASES = ["forward", "loss", "backward", "update"];

/** "dense0.W" -> "W1", "dense1.b" -> "b2": the names the formulas use. */
export function paramName(name) {
  const m = /^dense(\d+)\.(\w+)$/.exec(name || "");
  return m ? `${m[2]}${Number(m[1]) + 1}` : name;
}

/** (2, 3) for a shape [2, 3]; (4,) for [4]. */
export const dims = (shape) => `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
/** How many numbers an array of `shape` holds. */
export const count = (shape) => shape.reduce((a, b) => a * b, 1);

/** Which renderer a stage takes. */
export function kindOf(stage, trace) {
  const n = stage.name;
  if (n === "input" || n === "output" || n === "loss" || n === "update" || n === "loss_after_step") return n;
  const L = trace.model.layer_sizes.length - 1;
  if (/^dz\d+$/.test(n)) return stage.layer === L ? "dz_top" : "dz";
  return n.replace(/\d+$/, ""); // z, a, dW, db, da
}

const HEADS = { softmax_ce: "softmax", sigmoid_bce: "sigmoid", mse: "identity" };
const LOSSES = { softmax_ce: "cross-entropy", sigmoid_bce: "binary cross-entropy", mse: "mean squared error" };

/** A heading for the stage panel. */
export function titleOf(stage, trace) {
  const l = stage.layer;
  switch (kindOf(stage, trace)) {
    case "input": return "Input: the example, a0 = x";
    case "z": return stage.role === "logits" ? `Layer ${l}: logits z${l}` : `Layer ${l}: pre-activation z${l}`;
    case "a": return `Layer ${l}: activation a${l} = ${stage.activation}(z${l})`;
    case "output":
      if (stage.head === "softmax_ce") return "Output: softmax probabilities p";
      if (stage.head === "sigmoid_bce") return "Output: sigmoid probability p";
      return "Output: the predicted values ŷ";
    case "loss": return `Loss: ${LOSSES[stage.head] || stage.head}`;
    case "dz_top": return `Backward: the error at the output, dL/dz${l}`;
    case "dW": return `Backward: weight gradient dL/dW${l}`;
    case "db": return `Backward: bias gradient dL/db${l}`;
    case "da": return `Backward: dL/da${l}, sent down through W${l + 1}ᵀ`;
    case "dz": return `Backward: through ${stage.activation}′, dL/dz${l}`;
    case "update": return `Update: one ${stage.optimizer.name} step`;
    case "loss_after_step": return "Update: the loss after the step";
    default: return stage.name;
  }
}

/** A few characters for the stage list. */
export function shortOf(stage, trace) {
  switch (kindOf(stage, trace)) {
    case "input": return "x";
    case "z": return `a${stage.layer - 1}·W + b`;
    case "a": return stage.activation;
    case "output": return HEADS[stage.head] || stage.head;
    case "loss": return stage.head === "softmax_ce" ? "−log p[y]" : stage.head === "sigmoid_bce" ? "BCE" : "MSE";
    case "dz_top": return trace.model.head === "mse" ? "2(ŷ − y)/n" : "p − y";
    case "dW": return `a${stage.layer - 1}ᵀ·dz`;
    case "db": return "dz";
    case "da": return "dz·Wᵀ";
    case "dz": return "da ⊙ f′(z)";
    case "update": return stage.optimizer.name;
    case "loss_after_step": return "L′";
    default: return "";
  }
}

/** The shapes line: the stage's `shapes`, or what it has instead. */
export function shapesOf(stage) {
  if (stage.shapes) return stage.shapes;
  if (stage.name === "update") {
    const parts = stage.parameters.map((p) => `${paramName(p.param)} ${dims(p.delta.shape)}`);
    return `${parts.join(" · ")}: ${int(count(stage.shape))} numbers, each moved once`;
  }
  return `${dims(stage.shape)}: one number`;
}
