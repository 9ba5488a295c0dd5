// The inspect routes: fetch only, no DOM (as api.js). Failures are api.js's ApiError with `detail`.

import { ApiError } from "./api.js";

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message}): is it running?`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = (data && typeof data.detail === "string") ? data.detail : `${method} ${path} failed with HTTP ${response.status}`;
    throw new ApiError(response.status, detail, (data && data.errors) || []);
  }
  return data;
}

const id = (modelId) => encodeURIComponent(modelId);

/** Trained models, newest first. */
export const listModels = () => call("GET", "/api/models");

/** One example through every stage: body {dataset_index, split} | {image, label} | {input, label}, plus optimizer. */
export const trace = (modelId, body) => call("POST", `/api/models/${id(modelId)}/trace`, body);

/** Confusion matrix, per-class accuracy and the misclassified examples of a split. */
export const evaluation = (modelId, split = "test", limit = 100) =>
  call("GET", `/api/models/${id(modelId)}/evaluation?split=${split}&limit=${limit}`);

/** Rows of the model's dataset by index: {split, input_shape, examples: [{index, x, label}]}. */
export function examples(modelId, indices, split = "test") {
  const q = new URLSearchParams({ split });
  for (const i of indices) q.append("index", String(i));
  return call("GET", `/api/models/${id(modelId)}/examples?${q}`);
}
