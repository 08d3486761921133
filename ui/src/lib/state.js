// state.js: shared app state (current run, result filters) mirrored in the
// URL hash so a view can be reloaded, bookmarked and shared.
import { api, items } from './api.js';
import { toast } from './dom.js';

const RUN_KEY = 'exohunter.run';

export const state = {
  runs: [],
  run: '',
  listeners: new Set(),
};

export function onRunChange(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

export function setRun(id, { silent = false } = {}) {
  if (id === state.run) return;
  state.run = id || '';
  try { localStorage.setItem(RUN_KEY, state.run); } catch { /* ignore */ }
  const sel = document.getElementById('run-select');
  if (sel && sel.value !== state.run) sel.value = state.run;
  if (sel) sel.title = state.run;
  if (!silent) for (const fn of state.listeners) fn(state.run);
}

/** The part of a run id after its dataset's name ("koi-20261126T084324-640f44" -> "20261126T084324-640f44"). */
export function shortRunId(r) {
  const id = String(r.run_id ?? r);
  const ds = r.dataset ? String(r.dataset) : '';
  return ds && id.startsWith(`${ds}-`) ? id.slice(ds.length + 1) : id;
}

export function runLabel(r) {
  const when = r.created_at ? new Date(r.created_at).toISOString().slice(0, 16).replace('T', ' ') : shortRunId(r);
  const rows = r.rows != null ? ` · ${Number(r.rows).toLocaleString('en-US')} row${Number(r.rows) === 1 ? '' : 's'}` : '';
  return `${r.dataset || '?'} · ${when}${rows}`;
}

// loaded is true once GET /api/runs has answered: from then on a run named
// in the URL is checked against the list.
let loaded = false;

// The last missing run told about, and when: a page reload names it both
// to the header's picker and to the page, and one message is enough.
let told = { id: '', at: 0 };

/** Tells once that a run named in the URL does not exist. */
export function missingRun(id, instead) {
  if (told.id === id && Date.now() - told.at < 5000) return;
  told = { id, at: Date.now() };
  toast(`Run ${id} does not exist (its dataset may have been deleted)${instead ? `; showing ${instead}` : ''}.`, 'error', 8000);
}

/** Takes the run named in a page's URL (silently: the page loads it), unless the runs are known and it is not one of them. */
export function runFromParams(params) {
  const want = params.get('run');
  if (!want || want === state.run) return;
  if (loaded && !state.runs.some((r) => r.run_id === want)) {
    missingRun(want, state.run);
    return;
  }
  setRun(want, { silent: true });
}

let resolveReady;
/** Resolves (with the list) once GET /api/runs has answered the first time. */
export const runsReady = new Promise((r) => { resolveReady = r; });

/** Loads GET /api/runs into the header picker. Called once at start and after a run completes. */
export async function refreshRuns(preferred) {
  let list = [];
  try {
    list = items(await api('/api/runs'), 'runs');
  } catch {
    list = [];
  }
  list = list.filter((r) => !r.status || r.status === 'complete');
  list.sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
  state.runs = list;
  const sel = document.getElementById('run-select');
  if (sel) {
    sel.textContent = '';
    if (!list.length) sel.append(new Option('no runs yet', ''));
    // note: two runs of a dataset in one minute would read the same; those
    // get their run id's own part too.
    const labels = list.map(runLabel);
    labels.forEach((l, i) => {
      const label = labels.indexOf(l) !== labels.lastIndexOf(l) ? `${l} · ${shortRunId(list[i])}` : l;
      sel.append(new Option(label, list[i].run_id));
    });
  }
  let want = preferred || state.run;
  if (!want) { try { want = localStorage.getItem(RUN_KEY) || ''; } catch { want = ''; } }
  loaded = true;
  if (!list.some((r) => r.run_id === want)) {
    const named = want;
    want = list.length ? list[0].run_id : '';
    if (named && (named === preferred || named === state.run) && named !== want) missingRun(named, want);
  }
  if (sel) sel.value = want;
  if (sel) sel.title = list.find((r) => r.run_id === want)?.run_id || '';
  if (want !== state.run) setRun(want);
  resolveReady(list);
  return list;
}

/** Parses "#/page?x=1" into {page, params}. */
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { page: path || 'datasets', params: new URLSearchParams(query) };
}

/** Rewrites the hash query without a new history entry or a re-route. */
export function setHashParams(params) {
  const { page } = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', `#/${page}${s ? `?${s}` : ''}`);
}

/** Result filters shared by Results and Charts (names follow the API's query parameters). */
export const FILTER_KEYS = ['category', 'tag', 'flag', 'disposition', 'min_score', 'max_score', 'q'];
const filters = { sort: '', order: '' };

export function getFilters() {
  return { ...filters };
}

export function setFilters(f) {
  for (const k of Object.keys(filters)) delete filters[k];
  Object.assign(filters, f);
}

/** Only the filter parameters (no sort/paging), e.g. for exports and charts. */
export function filterParams(f = filters) {
  const out = {};
  for (const [k, v] of Object.entries(f)) {
    if (v === '' || v === undefined || v === null) continue;
    if (FILTER_KEYS.includes(k) || /__(gte|lte|gt|lt|eq|ne)$/.test(k)) out[k] = v;
  }
  return out;
}

export function filtersFromParams(params) {
  const f = {};
  for (const [k, v] of params) {
    if (FILTER_KEYS.includes(k) || /__(gte|lte|gt|lt|eq|ne)$/.test(k) || k === 'sort' || k === 'order') f[k] = v;
  }
  return f;
}
