// Run: thresholds form (defaults, units and one-line explanations from
// GET /api/thresholds), albedo, a progress bar fed by SSE while the job runs,
// and the run summary.
import { h, replace, clear, select, progressBar, errorBox, toast, id } from '../lib/dom.js';
import { api, items, enc, qs, followJob, countMap } from '../lib/api.js';
import { count, ms, num, age, percent } from '../lib/format.js';
import { CATEGORIES, categoryColor, humanizeCategory } from '../lib/meta.js';
import { categoryText, prettyUnit } from '../lib/dict.js';
import { state, runsReady, refreshRuns, setRun, setHashParams, shortRunId, missingRun, getFilters, setFilters } from '../lib/state.js';
import { hasParameterSets, DEFAULT_KEY } from '../lib/filters.js';
import { flatten } from '../lib/thresholds.js';
import { has } from '../lib/capabilities.js';

export async function render(root, params) {
  let follower = null;
  const dsBox = h('div');
  const formBox = h('div', { class: 'panel-body' });
  const progressBox = h('div', { class: 'run-progress', hidden: true });
  const summaryBox = h('section', { class: 'panel', 'aria-labelledby': 'summary-title', hidden: true });
  const historyBox = h('div', { class: 'panel-body' });

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Run the pipeline'),
      h('p', { class: 'muted' }, 'Normalize, derive the missing physics and classify every object. Defaults come from configs/thresholds.yaml; change any value for this run only.')),
    h('div', { class: 'grid-run' },
      h('section', { class: 'panel', 'aria-labelledby': 'run-form-title' },
        h('header', { class: 'panel-head' }, h('h2', { id: 'run-form-title' }, 'Settings'), dsBox),
        formBox, progressBox),
      h('div', { class: 'stack' }, summaryBox,
        h('section', { class: 'panel', 'aria-labelledby': 'history-title' },
          h('header', { class: 'panel-head' }, h('h2', { id: 'history-title' }, 'Earlier runs of this dataset')), historyBox))));

  // Datasets
  let datasets = [];
  try {
    datasets = items(await api('/api/datasets'), 'datasets');
  } catch (err) {
    replace(formBox, errorBox(err, 'Could not list datasets.'));
    return;
  }
  if (!datasets.length) {
    replace(formBox, h('p', { class: 'empty' }, 'No datasets yet. ', h('a', { href: '#/datasets' }, 'Import a catalog first.')));
    return;
  }
  let dataset = params.get('dataset') || datasets[0].name;
  if (!datasets.some((d) => d.name === dataset)) dataset = datasets[0].name;
  const dsSel = select(datasets.map((d) => [d.name, `${d.name} (${count(d.rows)} rows)`]), dataset, { id: 'run-dataset', 'data-testid': 'run-dataset' });
  dsSel.onchange = () => { dataset = dsSel.value; setHashParams({ dataset }); loadHistory(); };
  replace(dsBox, h('label', { for: 'run-dataset', class: 'inline-label' }, 'Dataset '), dsSel);

  // Thresholds
  let spec = null;
  try {
    spec = await api('/api/thresholds');
  } catch (err) {
    spec = { error: err };
  }
  const thresholds = spec && Array.isArray(spec.thresholds) ? spec.thresholds : Array.isArray(spec && spec.items) ? spec.items : [];
  const defaultAlbedo = spec && typeof spec.albedo === 'number' ? spec.albedo : spec && spec.albedo && typeof spec.albedo.value === 'number' ? spec.albedo.value : 0.3;
  const albedoText = (spec && spec.albedo && typeof spec.albedo === 'object' && spec.albedo.description) || 'Bond albedo for the equilibrium temperature where the catalog has none (KOI uses 0.3).';
  const inputs = new Map();
  const groups = new Map();
  for (const t of thresholds) {
    const g = String(t.key).includes('.') ? String(t.key).split('.')[0] : 'general';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(t);
  }
  const fieldsets = [];
  for (const [g, list] of groups) {
    fieldsets.push(h('fieldset', { class: 'thresholds' },
      h('legend', {}, g.replace(/_/g, ' ')),
      list.map((t) => {
        const inp = h('input', { type: 'number', step: 'any', value: t.value, id: id('thr'), 'data-key': t.key, 'aria-describedby': '', required: true });
        const did = id('thr-d');
        inp.setAttribute('aria-describedby', did);
        inp.oninput = () => inp.classList.toggle('changed', inp.value !== '' && Number(inp.value) !== Number(t.value));
        inputs.set(t.key, { inp, def: t.value });
        return h('div', { class: 'thr-row', 'data-threshold': t.key },
          h('label', { for: inp.id }, String(t.key).split('.').slice(1).join('.') || t.key),
          inp,
          h('span', { class: 'unit', title: !t.unit || t.unit === '-' ? 'dimensionless' : t.unit }, !t.unit || t.unit === '-' ? '—' : t.unit === 'fraction' ? 'fraction' : prettyUnit(t.unit)),
          h('small', { id: did, class: 'hint' }, t.description || ''));
      })));
  }
  const albedo = h('input', { type: 'number', min: 0, max: 0.99, step: 0.01, value: defaultAlbedo, id: 'run-albedo', required: true, 'aria-describedby': 'run-albedo-hint' });
  const extra = h('textarea', { id: 'run-extra', rows: 2, placeholder: 'planet_radius.rocky_max=2.2', spellcheck: 'false' });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'run-start' }, 'Start run');
  const reset = h('button', { type: 'button', class: 'btn-ghost', onclick: () => { for (const { inp, def } of inputs.values()) { inp.value = def; inp.classList.remove('changed'); } albedo.value = defaultAlbedo; } }, 'Reset to defaults');
  const formStatus = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', onsubmit: (e) => { e.preventDefault(); start(); } },
    thresholds.length ? fieldsets
      : h('div', { class: 'note' }, spec && spec.error ? `The threshold list is not available from this server (${spec.error.message}). The configured defaults apply; override keys below.` : 'No thresholds reported.'),
    h('fieldset', { class: 'thresholds' }, h('legend', {}, 'physics'),
      h('div', { class: 'thr-row' }, h('label', { for: 'run-albedo' }, 'albedo'), albedo, h('span', { class: 'unit' }, '0 ≤ A < 1'),
        h('small', { class: 'hint', id: 'run-albedo-hint' }, albedoText))),
    h('details', { class: 'extra' }, h('summary', {}, 'Other overrides (dotted keys)'),
      h('label', { for: 'run-extra' }, 'One KEY=VALUE per line; numbers only'), extra),
    h('div', { class: 'actions' }, go, reset), formStatus);
  replace(formBox, form);

  function overrides() {
    const out = {};
    for (const [key, { inp, def }] of inputs) {
      if (inp.value !== '' && Number(inp.value) !== Number(def)) out[key] = Number(inp.value);
    }
    for (const line of extra.value.split('\n')) {
      const m = /^\s*([\w.]+)\s*=\s*(\S+)\s*$/.exec(line);
      if (m && !Number.isFinite(Number(m[2]))) throw new Error(`The override ${m[1]}=${m[2]} is not a number.`);
      if (m) out[m[1]] = Number(m[2]);
      else if (line.trim()) throw new Error(`Cannot read override "${line.trim()}": write KEY=VALUE.`);
    }
    return out;
  }

  // markInvalid shows a refused override at its own input: marked, its
  // message beside it, and focused (the form is long; the run's error
  // below would be out of sight). It returns whether any input was marked.
  function markInvalid(details) {
    let first = null;
    for (const d of details || []) {
      const hit = d && d.field ? inputs.get(d.field) : null;
      if (!hit) continue;
      hit.inp.classList.add('invalid');
      hit.inp.setAttribute('aria-invalid', 'true');
      hit.inp.closest('.thr-row')?.append(h('span', { class: 'error-text thr-error', role: 'alert' }, d.message));
      first = first || hit.inp;
    }
    if (first) first.focus();
    return first !== null;
  }
  function clearInvalid() {
    for (const { inp } of inputs.values()) { inp.classList.remove('invalid'); inp.removeAttribute('aria-invalid'); }
    for (const el of document.querySelectorAll('.thr-error')) el.remove();
  }

  async function start() {
    clear(formStatus);
    clearInvalid();
    let body;
    try {
      body = { thresholds: overrides(), albedo: Number(albedo.value) };
    } catch (err) {
      formStatus.append(errorBox(err, 'Override not understood.'));
      return;
    }
    go.disabled = true;
    const bar = progressBar('Run progress');
    const msg = h('p', { class: 'muted' });
    replace(progressBox, h('h3', {}, `Running ${dataset}`), bar, msg);
    progressBox.hidden = false;
    bar.set(null, 'Queued…');
    try {
      const r = await api(`/api/datasets/${enc(dataset)}/runs`, { method: 'POST', body });
      let job = { status: r.status, progress: r.status === 'complete' ? 1 : 0 };
      if (r.status !== 'complete' && r.status !== 'failed' && r.job_id) {
        follower = followJob(r.job_id, (j) => {
          const p = typeof j.progress === 'number' ? (j.progress > 1 ? j.progress / 100 : j.progress) : null;
          bar.set(p, j.status === 'queued' ? 'Queued…' : p == null ? 'Running…' : `${Math.round(p * 100)}%`);
          msg.textContent = j.message || '';
        });
        job = await follower.promise;
        follower = null;
      }
      if (job.status === 'failed') throw new Error(job.message || (job.result && job.result.error) || 'The run failed.');
      bar.set(1, 'Complete');
      toast(`Run ${r.run_id} complete`, 'ok');
      await refreshRuns(r.run_id);
      setRun(r.run_id);
      await showSummary(r.run_id);
      // note: the form is long; the summary of the run just made is what
      // the user waits for.
      summaryBox.scrollIntoView({ block: 'start', behavior: 'smooth' });
      loadHistory();
    } catch (err) {
      bar.set(0, 'Failed');
      replace(msg, h('span', { class: 'error-text', role: 'alert' }, err.message));
      // note: a one-problem error already says it in its message.
      const more = (err.details || []).map((d) => (typeof d === 'string' ? d : d.message || JSON.stringify(d))).filter((t) => t && !String(err.message).includes(t));
      if (more.length) msg.append(h('ul', {}, more.map((t) => h('li', {}, t))));
      markInvalid(err.details);
    } finally {
      go.disabled = false;
    }
  }

  async function showSummary(runId) {
    summaryBox.hidden = false;
    replace(summaryBox, h('p', { class: 'muted panel-body' }, 'Loading summary…'));
    let run;
    let multi;
    try {
      [run, multi] = await Promise.all([api(`/api/runs/${enc(runId)}`), hasParameterSets(runId)]);
    } catch (err) {
      replace(summaryBox, errorBox(err, 'Could not load the run.'));
      return;
    }
    // note: in a table with several parameter sets per planet (K2, PS) the
    // run's counts are of rows, as on Results; the switch counts the
    // default set of each planet instead (GET …/counts, the Results filter).
    const canSwitch = multi && (await has('get', '/api/runs/{id}/counts')) !== false;
    let defaultOnly = canSwitch && getFilters()[DEFAULT_KEY] === 'true';
    const link = (page, extra = {}) => `#/${page}${qs({ run: runId, ...extra, [DEFAULT_KEY]: defaultOnly ? 'true' : '' })}`;
    const resultsLink = h('a', { class: 'btn', href: link('results') }, 'Results →');
    const chartsLink = h('a', { class: 'btn-ghost', href: link('charts') }, 'Charts');
    const countsBox = h('div');
    const showCounts = async () => {
      const asked = defaultOnly;
      let counts = run.counts || {};
      if (asked) {
        try {
          counts = countMap(await api(`/api/runs/${enc(runId)}/counts`, { query: { by: 'category', [DEFAULT_KEY]: 'true' } }));
        } catch (err) {
          replace(countsBox, errorBox(err, 'Could not count the default parameter sets.'));
          return;
        }
        if (asked !== defaultOnly) return; // switched off meanwhile
      }
      resultsLink.href = link('results');
      chartsLink.href = link('charts');
      const [caption, what] = defaultOnly ? ['Objects per category, default parameter sets only', 'objects']
        : multi ? ['Rows (parameter sets) per category', 'rows'] : ['Objects per category', 'objects'];
      replace(countsBox, countsTable(counts, caption, what, (c) => link('results', { category: c })));
    };
    const sw = canSwitch ? h('input', {
      type: 'checkbox', 'data-testid': 'run-default-only', checked: defaultOnly,
      onchange: (e) => {
        defaultOnly = e.target.checked;
        // note: the same switch as on Results and Charts, so those pages open with it.
        const f = getFilters();
        if (defaultOnly) f[DEFAULT_KEY] = 'true'; else delete f[DEFAULT_KEY];
        setFilters(f);
        showCounts();
      },
    }) : null;
    const timings = run.timings && typeof run.timings === 'object' ? Object.entries(run.timings) : [];
    const thr = run.thresholds && typeof run.thresholds === 'object' ? Object.entries(flatten(run.thresholds)) : [];
    replace(summaryBox,
      h('header', { class: 'panel-head' }, h('h2', { id: 'summary-title' }, 'Run summary'),
        h('div', { class: 'actions' }, resultsLink, chartsLink)),
      h('div', { class: 'panel-body', 'data-testid': 'run-summary' },
        h('div', { class: 'stats' },
          h('div', { class: 'stat' }, h('span', { class: 'stat-v mono' }, String(run.run_id)), h('span', { class: 'stat-l' }, 'run id')),
          h('div', { class: 'stat' }, h('span', { class: 'stat-v' }, count(run.rows)), h('span', { class: 'stat-l' }, multi ? 'rows (parameter sets)' : 'rows')),
          h('div', { class: 'stat' }, h('span', { class: 'stat-v' }, run.dataset || '—'), h('span', { class: 'stat-l' }, 'dataset')),
          h('div', { class: 'stat' }, h('span', { class: 'stat-v mono' }, String(run.config_hash || '—').slice(0, 12)), h('span', { class: 'stat-l' }, 'config hash')),
          h('div', { class: 'stat' }, h('span', { class: 'stat-v' }, age(run.created_at)), h('span', { class: 'stat-l' }, 'created'))),
        multi ? h('p', { class: 'note', 'data-testid': 'run-counts-note' },
          'This table holds several parameter sets per planet, one row each: the counts are of rows (parameter sets), not planets.',
          sw ? h('label', { class: 'switch-label' }, sw, ' default parameter sets only (one row per planet)') : null) : null,
        countsBox,
        timings.length ? h('details', {}, h('summary', {}, 'Timings'), h('table', { class: 'grid compact' }, h('tbody', {}, timings.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: 'numcell' }, typeof v === 'number' ? ms(v) : String(v))))))) : null,
        thr.length ? h('details', {}, h('summary', {}, 'Thresholds used'), h('table', { class: 'grid compact' }, h('tbody', {}, thr.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: 'numcell' }, num(v)))))))
          : null));
    await showCounts();
  }

  async function loadHistory() {
    replace(historyBox, h('p', { class: 'muted' }, 'Loading…'));
    let list = [];
    try {
      list = items(await api('/api/runs', { query: { dataset } }), 'runs').filter((r) => !r.dataset || r.dataset === dataset);
    } catch (err) {
      replace(historyBox, errorBox(err));
      return;
    }
    if (!list.length) { replace(historyBox, h('p', { class: 'empty' }, 'No runs yet.')); return; }
    list.sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
    // note: in a table-wrap, so that long run ids scroll inside the panel
    // instead of widening the page on a phone.
    replace(historyBox, h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact', 'data-testid': 'run-history' },
      h('thead', {}, h('tr', {}, ['run', 'status', 'rows', 'age'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, list.slice(0, 20).map((r) => h('tr', {},
        h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike mono', title: r.run_id, onclick: () => { setRun(r.run_id); showSummary(r.run_id); } }, shortRunId(r))),
        h('td', {}, r.status || '—'), h('td', { class: 'numcell' }, count(r.rows)), h('td', {}, age(r.created_at))))))));
  }

  loadHistory();
  if (params.get('run')) {
    // note: only a run that exists; a bookmark to a deleted one gets the
    // message the other pages give, not a 404.
    const want = params.get('run');
    runsReady.then((runs) => {
      if (runs.some((r) => r.run_id === want) || state.runs.some((r) => r.run_id === want)) showSummary(want);
      else missingRun(want, '');
    });
  } else {
    // note: the header's run when it is of this dataset, so that the page
    // opens on what it is about, not on an empty column.
    runsReady.then(() => {
      const cur = state.runs.find((r) => r.run_id === state.run && r.dataset === dataset);
      if (cur && summaryBox.hidden) showSummary(cur.run_id);
    });
  }
  return () => { if (follower) follower.cancel(); };
}

/** The category counts table; `what` is counted (objects or rows), href(category) links a count to Results. */
function countsTable(counts, caption, what, href) {
  const total = Object.values(counts).reduce((a, b) => a + Number(b || 0), 0) || 1;
  const max = Math.max(1, ...Object.values(counts).map(Number));
  const cats = [...CATEGORIES.filter((c) => c in counts), ...Object.keys(counts).filter((c) => !CATEGORIES.includes(c))];
  return h('table', { class: 'grid compact counts', 'data-testid': 'run-counts' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'category'), h('th', { scope: 'col', class: 'numcell' }, what), h('th', { scope: 'col', class: 'numcell' }, 'share'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'bar')))),
    h('tbody', {}, cats.map((c) => h('tr', { 'data-category': c },
      h('th', { scope: 'row', title: categoryText(c) }, h('span', { class: 'swatch', style: { background: categoryColor(c) } }), humanizeCategory(c)),
      h('td', { class: 'numcell' }, h('a', { href: href(c) }, count(counts[c]))),
      h('td', { class: 'numcell' }, percent(counts[c], total)),
      h('td', { class: 'barcell' }, h('span', { class: 'hbar', style: { width: `${(100 * counts[c]) / max}%`, background: categoryColor(c) } }))))));
}
