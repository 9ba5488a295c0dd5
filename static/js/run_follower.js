// Following one training run, for any panel that shows one: the run's server-sent events
// (api.followRun: ordered, resumed after a dropped connection) turned into what a
// progress display says: a status with its sentence, how much of the epoch and of the run
// is done, and how the run ended. The page's controls and the draw panel's quick model
// both follow their runs through here.

import * as api from "./api.js";
import { duration, int, num, pct } from "./format.js";

/** The sentence for a status event; `label` names the run ("xor 2-4-1"). */
function describeStatus(data, label) {
  switch (data.status) {
    case "queued": return `Run ${label} is queued${data.position ? ` (position ${data.position})` : ""}.`;
    case "running": {
      const split = data.processes > 1 ? ` on ${data.processes} cores (each step split across ${data.processes} processes)` : "";
      return `Training ${label}${split}…`;
    }
    case "paused": return `Paused after epoch ${data.epochs_done}. Press Resume to go on.`;
    case "interrupted": return `${data.message ? `This run stopped: ${data.message}` : "The server restarted while this run trained"}; press Resume to continue from its last checkpoint.`;
    default: return `Run ${data.status}.`;
  }
}

/** The sentence for a finished run: a `done` event, or a run record that has ended. */
export function describeEnd(data) {
  if (data.status === "failed") return `The run failed${data.error ? `: ${data.error}` : "."}`;
  const t = data.test_metrics;
  const test = t ? (t.accuracy !== undefined ? `test accuracy ${pct(t.accuracy)}` : `test R² ${num(t.r2, 3)}, MSE ${num(t.mse)}`) : "";
  const why = data.stop_reason === "early_stopping" ? ` (early stopping; best epoch ${data.best_epoch})` : "";
  return `Run ${data.status} after ${int(data.epochs_done)} epochs${why}${test ? ": " + test : ""}.`;
}

/** Where a progress event stands: {epoch, epochDone, runDone (fractions 0..1), where, text}.
 * `where` is the batch alone; `text` adds the speed and ETA, true only while the run trains. */
function progressOf(data, epochsTotal) {
  const epochDone = data.batches ? data.batch / data.batches : 0;
  const rate = data.samples_per_second ? ` · ${int(Math.round(data.samples_per_second))} samples/s` : "";
  const where = `batch ${int(data.batch)} / ${int(data.batches)}`;
  return {
    epoch: data.epoch,
    epochDone,
    runDone: epochsTotal ? Math.min(1, (data.epoch - 1 + epochDone) / epochsTotal) : 0,
    where,
    text: `${where}${rate} · ETA ${duration(data.eta_seconds)}`,
  };
}

/**
 * Follow the run `record` (a run record: {id, epochs_total, ...}) until it ends.
 * label: how sentences name the run. handlers, each optional:
 *   status(status, sentence, data)  queued, running, paused, interrupted, ...
 *   progress(p, data)               p from progressOf
 *   epoch(metrics)                  each epoch's metrics, in order
 *   end(status, sentence, data)     completed, stopped or failed (data.model_id once completed)
 *   connection(state, text)         the stream dropped ("reconnecting", "failed") or is back ("open")
 * Returns {close()}.
 */
export function followRun(record, label, handlers) {
  const call = (name, ...args) => handlers[name] && handlers[name](...args);
  return api.followRun(record.id, {
    status: (data) => call("status", data.status, describeStatus(data, label), data),
    progress: (data) => call("progress", progressOf(data, record.epochs_total), data),
    epoch: (metrics) => call("epoch", metrics),
    done: (data) => call("end", data.status, describeEnd(data), data),
    error: (data) => call("end", "failed", describeEnd({ status: "failed", error: data.message }), data),
    connection: (state, text) => call("connection", state, text),
  });
}
