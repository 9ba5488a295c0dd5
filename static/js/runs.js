// The run list (GET /api/runs): each run's status; open one to see its history;
// tick two or more to overlay their training loss.

import * as api from "./api.js";
import { createCompareChart } from "./charts.js";
import { ACTIVE, TERMINAL, int, num, runLabel } from "./format.js";

const POLL_MS = 3000;

export function createRunList({ list, errorLine, compareBox, compareEl, refreshButton }, { datasetInfo, onOpen, logScale }) {
  let runs = [];
  let current = null;       // id of the run on view
  const picked = new Set(); // ids ticked for comparison
  const histories = new Map(); // id -> history of finished runs (they do not change)
  const compare = createCompareChart(compareEl);
  let pollTimer = null;
  let log = logScale;

  refreshButton.addEventListener("click", () => refresh());

  list.addEventListener("click", (event) => {
    const open = event.target.closest("button[data-open]");
    if (open) onOpen(open.dataset.open);
  });
  list.addEventListener("change", (event) => {
    const box = event.target.closest("input[data-compare]");
    if (!box) return;
    if (box.checked) picked.add(box.dataset.compare);
    else picked.delete(box.dataset.compare);
    updateCompare();
  });

  function label(run) {
    return runLabel(run.spec, datasetInfo(run.spec.dataset));
  }

  function render() {
    list.replaceChildren();
    for (const run of runs) {
      const li = document.createElement("li");
      li.className = "run" + (run.id === current ? " current" : "");
      li.dataset.id = run.id;
      li.dataset.status = run.status;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `compare-${run.id}`;
      box.dataset.compare = run.id;
      box.checked = picked.has(run.id);
      const boxLabel = document.createElement("label");
      boxLabel.htmlFor = box.id;
      boxLabel.className = "visually-hidden";
      boxLabel.textContent = `Compare run ${label(run)} (${run.id})`;
      const open = document.createElement("button");
      open.type = "button";
      open.className = "run-open";
      open.dataset.open = run.id;
      if (run.id === current) open.setAttribute("aria-current", "true");
      const opt = run.spec.optimizer || {};
      open.textContent = `${label(run)} · ${opt.name} ${num(opt.lr)}`;
      open.title = `Open run ${run.id}`;
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.dataset.status = run.status;
      badge.textContent = run.queue_position ? `queued #${run.queue_position}` : run.status;
      const meta = document.createElement("span");
      meta.className = "muted small";
      const when = new Date(run.created_at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      const test = run.test_metrics ? (run.test_metrics.accuracy !== undefined
        ? ` · test acc ${(100 * run.test_metrics.accuracy).toFixed(1)}%` : ` · test R² ${num(run.test_metrics.r2, 3)}`) : "";
      meta.textContent = `${int(run.epochs_done)}/${int(run.epochs_total)} epochs${test} · ${when}`;
      li.append(box, boxLabel, open, badge, meta);
      list.append(li);
    }
    if (!runs.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No runs yet: press Train.";
      list.append(li);
    }
  }

  async function refresh() {
    clearTimeout(pollTimer);
    try {
      const page = await api.listRuns(30);
      runs = page.runs;
      errorLine.textContent = "";
      render();
      for (const id of [...picked]) if (!runs.some((r) => r.id === id)) picked.delete(id);
      if (picked.size >= 2) updateCompare();
    } catch (err) {
      errorLine.textContent = `Could not list the runs: ${err.detail}`;
    }
    if (runs.some((r) => ACTIVE.has(r.status))) pollTimer = setTimeout(refresh, POLL_MS);
  }

  async function historyOf(run) {
    if (histories.has(run.id)) return histories.get(run.id);
    const detail = await api.getRunMetrics(run.id);
    if (TERMINAL.has(detail.status)) histories.set(run.id, detail.history);
    return detail.history;
  }

  let compareToken = 0;
  async function updateCompare() {
    const token = ++compareToken;
    const chosen = runs.filter((r) => picked.has(r.id));
    compareBox.hidden = chosen.length < 2;
    if (chosen.length < 2) return;
    try {
      const series = await Promise.all(chosen.map(async (run) => ({
        label: `${label(run)} ${run.spec.optimizer.name} ${num(run.spec.optimizer.lr)} (${run.id.slice(0, 4)})`,
        history: await historyOf(run),
      })));
      if (token === compareToken) compare.setRuns(series, log);
    } catch (err) {
      errorLine.textContent = `Could not load a run to compare: ${err.detail}`;
    }
  }

  return {
    refresh,
    setCurrent(id) {
      current = id;
      render();
    },
    setLog(on) {
      log = on;
      if (picked.size >= 2) updateCompare();
    },
  };
}
