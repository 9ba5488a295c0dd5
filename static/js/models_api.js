// The trained-model endpoints the draw panel uses: fetch only, no DOM (as api.js).
// Failures are api.js's ApiError with the server's `detail`.

import { ApiError } from "./api.js";

async function request(method, path, body) {
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
  let data = null;
  try {
    data = await response.json();
  } catch {
    // a non-JSON body: fall through with data = null
  }
  if (!response.ok) {
    const detail = (data && typeof data.detail === "string") ? data.detail : `${method} ${path} failed with HTTP ${response.status}`;
    throw new ApiError(response.status, detail, (data && data.errors) || []);
  }
  return data;
}

/** Trained models, newest first; `dataset` keeps one dataset's ("mnist"). */
export const listModels = (dataset) =>
  request("GET", `/api/models${dataset ? `?dataset=${encodeURIComponent(dataset)}` : ""}`);

/** Classify a drawing (a PNG data: URL) with an MNIST model:
 *  {predictions, labels, probabilities, activations, input}. */
export const predictImage = (id, dataUrl) =>
  request("POST", `/api/models/${encodeURIComponent(id)}/predict`, { image: dataUrl });
