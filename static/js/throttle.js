// Pacing requests that follow an input: the draw panel asks for a prediction on every
// pen move, and this lets at most one request be in flight and starts at most one per
// interval, folding the asks in between into one. No DOM; the clock can be a fake one.

/**
 * Paces calls of `send` (which returns a promise): after `request()`, `send` runs
 * as soon as no earlier call is in flight and `intervalMs` have passed since the
 * last one started. Requests made meanwhile fold into one. Returns {request, cancel}.
 * `now` and `setTimer(fn, ms)` are the clock (the page's by default; tests pass a fake one).
 */
export function createThrottle(send, { intervalMs = 100, now = () => performance.now(),
  setTimer = (fn, ms) => setTimeout(fn, ms) } = {}) {
  let wanted = false, inFlight = false, lastStart = -Infinity, waiting = false;

  function pump() {
    if (inFlight || !wanted || waiting) return;
    const wait = lastStart + intervalMs - now();
    if (wait > 0) {
      waiting = true;
      setTimer(() => { waiting = false; pump(); }, wait);
      return;
    }
    wanted = false;
    inFlight = true;
    lastStart = now();
    Promise.resolve()
      .then(send)
      .catch(() => {}) // `send` reports its own errors
      .finally(() => { inFlight = false; pump(); });
  }

  return {
    request() { wanted = true; pump(); },
    cancel() { wanted = false; },
  };
}
