// thresholds.js: which of a run's thresholds each column is compared with,
// so that a value shown beside them is never rounded onto one (format.js
// num's `near`). Values come from the run (GET /api/runs, with the run's
// overrides), units from GET /api/thresholds, column units from the
// dictionary.
import { api, enc } from './api.js';
import { column, loadDictionary } from './dict.js';
import { state, runsReady } from './state.js';

let units = null;
function thresholdUnits() {
  if (!units) {
    units = api('/api/thresholds')
      .then((d) => new Map((d.thresholds || []).map((t) => [t.key, t.unit])))
      .catch(() => { units = null; return new Map(); });
  }
  return units;
}

/** Flattens nested thresholds ({planet_radius: {rocky_max: 2}}) to dotted keys. */
export function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

const flatOf = new Map();
// flatThresholds reads the run's numeric thresholds once (rejecting, and
// asked again next time, when the run cannot be read).
function flatThresholds(runId) {
  if (!flatOf.has(runId)) {
    const p = (async () => {
      await runsReady;
      const run = state.runs.find((r) => r.run_id === runId) || await api(`/api/runs/${enc(runId)}`);
      return Object.fromEntries(Object.entries(flatten(run.thresholds || {})).filter(([, v]) => typeof v === 'number'));
    })();
    p.catch(() => flatOf.delete(runId));
    flatOf.set(runId, p);
  }
  return flatOf.get(runId);
}

/**
 * Resolves to the run's numeric thresholds as {dotted.key: value}, with the
 * run's overrides (the run from GET /api/runs, else GET /api/runs/{id}).
 * Never rejects: {} when the run cannot be read.
 */
export function runThresholds(runId) {
  return flatThresholds(runId).catch(() => ({}));
}

const ofRun = new Map();
/**
 * Resolves to near(column) -> the run's threshold values for that column:
 * those in the column's unit (planet_radius.rocky_max and
 * habitable_zone.max_radius for koi_prad, all R_earth), and the
 * dimensionless ones named after it (duration_ratio.min). Never rejects;
 * without thresholds near() is empty and numbers are shown as usual.
 */
export function columnThresholds(runId) {
  if (!ofRun.has(runId)) {
    ofRun.set(runId, (async () => {
      const [thr, unitOf] = await Promise.all([flatThresholds(runId), thresholdUnits(), loadDictionary()]);
      const all = Object.entries(thr);
      const memo = new Map();
      return (col) => {
        if (!memo.has(col)) {
          const c = column(col);
          const u = c && c.name === col ? c.unit : '';
          memo.set(col, all.filter(([key]) => (u && unitOf.get(key) === u) || key.split('.')[0] === col).map(([, v]) => v));
        }
        return memo.get(col);
      };
    })().catch(() => { ofRun.delete(runId); return () => []; }));
  }
  return ofRun.get(runId);
}
