// Models: trained models, their metrics (cross-validation, out-of-fold,
// holdout), confusion matrix, feature importance, model and data cards;
// training as a background job, and scoring the current run (p_model,
// anomaly_score become result columns). A server without models shows how to
// train one, not an error.
import { h, replace, errorBox, notAvailable, emptyState, select, progressBar, toast } from '../lib/dom.js';
import { api, items, enc, followJob } from '../lib/api.js';
import { num, age, count, ms } from '../lib/format.js';
import { confusion } from '../lib/confusion.js';
import { state, runsReady, setHashParams, shortRunId, runFromParams, onRunChange } from '../lib/state.js';
import { has } from '../lib/capabilities.js';

const METRICS = [['accuracy', 'accuracy'], ['macro_f1', 'macro F1'], ['roc_auc', 'ROC AUC'], ['pr_auc', 'PR AUC']];
const ALIASES = { macro_f1: ['macro_f1', 'f1_macro'], accuracy: ['accuracy'], roc_auc: ['roc_auc'], pr_auc: ['pr_auc'] };
const TARGETS = [
  ['confirmed_vs_fp', 'confirmed_vs_fp: CONFIRMED against FALSE POSITIVE'],
  ['planet_vs_fp', 'planet_vs_fp: CONFIRMED or CANDIDATE against FALSE POSITIVE'],
  ['disposition', 'disposition: the three NASA classes'],
];

// note: the jobs this page follows; leaving the page stops following them
// (each holds an event stream, and a browser opens few per server). The
// jobs themselves go on.
const following = new Set();
// note: texts that name the header's run follow its changes, so a button
// never says one run and acts on another; leaving the page stops them.
const runWatchers = new Set();

/** Keeps fn(run) up to date with the header's run (run: the runs entry, or undefined). */
function followRun(fn) {
  const call = () => fn(state.runs.find((r) => r.run_id === state.run));
  call();
  runWatchers.add(onRunChange(call));
}

export async function render(root, params) {
  await renderPage(root, params);
  return () => {
    for (const f of following) f.cancel();
    following.clear();
    for (const off of runWatchers) off();
    runWatchers.clear();
  };
}

async function renderPage(root, params) {
  const listBox = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const detail = h('div', { class: 'stack' });
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Models'),
    h('p', { class: 'muted' }, 'Classifiers of the NASA disposition from the physics alone (no Robovetter outputs), and anomaly detection. Scoring a run adds p_model and anomaly_score to its result columns (Results, exports, and runs.scored in SQL).')),
  h('section', { class: 'panel', 'aria-labelledby': 'models-title' },
    h('header', { class: 'panel-head' }, h('h2', { id: 'models-title' }, 'Trained models')), listBox),
  detail);

  runFromParams(params);
  await runsReady;
  let list;
  try {
    if ((await has('get', '/api/models')) === false) throw Object.assign(new Error('no models route'), { missing: true });
    list = items(await api('/api/models'), 'models');
  } catch (err) {
    if (err.missing) {
      replace(root, h('div', { class: 'page-head' }, h('h1', {}, 'Models')),
        notAvailable('Models are not available yet', 'This server does not offer the models API yet (GET /api/models). Once models are trained, their metrics, confusion matrices and cards show here, and anomaly_score and model probability become result columns.'));
      return;
    }
    replace(listBox, errorBox(err, 'Could not list the models.'));
    return;
  }
  const canTrain = (await has('post', '/api/models/train')) !== false;
  const actions = h('div', { class: 'stack' });
  if (canTrain) actions.append(trainForm(!list.length));
  const anomalies = await anomalyAction();
  if (anomalies) actions.append(anomalies);
  if (!list.length) {
    replace(listBox,
      emptyState('No models trained yet',
        'Train one below (a few seconds to a minute on a KOI table), or on the command line: exohunter train --run RUN. Its metrics, confusion matrix and model card then show here, and scoring a run adds p_model to the results.',
        'models-empty'),
      actions);
    return;
  }
  list.sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
  const rows = list.map((m) => {
    const tr = h('tr', { class: m.leaky ? 'leaky' : '', 'data-model': `${m.name}/${m.version}` },
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike', onclick: () => show(m.name, m.version) }, m.name),
        m.leaky ? [' ', h('span', { class: 'badge warn', title: 'Trained with leaky columns (Robovetter outputs), for comparison only' }, 'leaky')] : null),
      h('td', { class: 'mono' }, m.version), h('td', {}, m.kind || '—'), h('td', {}, m.target || '—'),
      METRICS.map(([k]) => h('td', { class: 'numcell', title: spreadText(m.metrics, k) }, num(headline(m.metrics, k), 3))),
      h('td', { class: 'numcell' }, count(m.metrics && m.metrics.rows)),
      h('td', {}, age(m.created_at)));
    return tr;
  });
  replace(listBox, h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact', 'data-testid': 'models-table' },
    h('caption', { class: 'sr-only' }, 'Trained models with their cross-validated metrics'),
    h('thead', {}, h('tr', {}, ['model', 'version', 'kind', 'target', ...METRICS.map((m) => `${m[1]} (CV)`), 'rows', 'trained'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows))), actions);

  let showSeq = 0;
  async function show(name, version) {
    const my = ++showSeq;
    setHashParams({ model: `${name}/${version}` });
    for (const tr of rows) tr.classList.toggle('selected', tr.dataset.model === `${name}/${version}`);
    replace(detail, h('p', { class: 'muted' }, 'Loading…'));
    let m;
    try {
      m = await api(`/api/models/${enc(name)}/${enc(version)}`);
    } catch (err) {
      if (my === showSeq) replace(detail, errorBox(err, 'Could not load the model.'));
      return;
    }
    if (my !== showSeq) return;
    replace(detail, modelDetail(name, version, m));
  }
  const want = params.get('model');
  const pick = want && list.find((m) => `${m.name}/${m.version}` === want) ? want : `${list[0].name}/${list[0].version}`;
  const cut = pick.indexOf('/');
  await show(pick.slice(0, cut), pick.slice(cut + 1));
}

function metricOf(obj, k) {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const a of ALIASES[k] || [k]) if (obj[a] !== undefined) return obj[a];
  return undefined;
}
const scalar = (v) => (v && typeof v === 'object' ? v.mean ?? v.value : v);
/** The headline value: cross-validated mean, else out-of-fold, else test, else top level. */
function headline(mt, k) {
  if (!mt) return null;
  for (const src of [mt.cv, mt.oof, mt.test, mt.holdout && mt.holdout.test, mt]) {
    const v = scalar(metricOf(src, k));
    if (typeof v === 'number') return v;
  }
  return null;
}
function spreadText(mt, k) {
  const v = mt && metricOf(mt.cv, k);
  return v && typeof v === 'object' && v.std != null ? `cross-validation: ${num(v.mean, 4)} ± ${Number(v.std).toFixed(4)}` : '';
}

function evaluations(mt) {
  const out = [];
  const add = (label, src, rows) => { if (src && METRICS.some(([k]) => metricOf(src, k) !== undefined)) out.push([label, src, rows ?? src.rows]); };
  add(`${mt.cv && mt.cv.folds ? `${mt.cv.folds}-fold` : ''} cross-validation, mean ± std`.trim(), mt.cv, mt.rows);
  add('out-of-fold, pooled', mt.oof);
  if (mt.holdout) { add('holdout valid', mt.holdout.valid); add('holdout test', mt.holdout.test); } else add('test', mt.test);
  if (!out.length) add('metrics', mt);
  return out;
}

function modelDetail(name, version, m) {
  const mt = m.metrics || {};
  const cm = mt.confusion_matrix || mt.confusion;
  const cmLabels = (cm && cm.labels) || mt.classes || mt.labels || [];
  const cmMatrix = cm && Array.isArray(cm.matrix) ? cm.matrix : Array.isArray(cm) ? cm : null;
  const per = mt.per_class && typeof mt.per_class === 'object' ? Object.entries(mt.per_class) : [];
  const imp = Array.isArray(mt.importance) ? mt.importance.slice(0, 12) : [];
  const maxShare = Math.max(1e-9, ...imp.map((x) => Number(x.share ?? x.gain) || 0));
  const evals = evaluations(mt);
  const cell = (src, k) => {
    const v = metricOf(src, k);
    if (v && typeof v === 'object') return h('td', { class: 'numcell' }, num(v.mean, 4), v.std != null ? h('span', { class: 'muted' }, ` ± ${Number(v.std).toFixed(4)}`) : null);
    return h('td', { class: 'numcell' }, num(v, 4));
  };
  const features = Array.isArray(m.features) ? m.features : Array.isArray(mt.features) ? mt.features : [];
  const scoreBox = scoreAction(name, version);
  return [
    h('section', { class: 'panel', 'aria-labelledby': 'model-title', 'data-testid': 'model-detail' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'model-title' }, h('span', { class: 'mono' }, `${name} / ${version}`)),
        h('span', { class: 'muted' }, [m.kind, m.target && `target ${m.target}`, m.dataset && `trained on ${m.dataset}`, mt.seconds != null && `in ${ms(mt.seconds * 1000)}`].filter(Boolean).join(' · '))),
      h('div', { class: 'panel-body' },
        // note: the wrapper scrolls a wide table on a phone; focusable, so a
        // keyboard can scroll it too.
        evals.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Metrics table' }, h('table', { class: 'grid compact metrics-table', 'data-testid': 'model-metrics' },
          h('caption', {}, `Metrics${mt.threshold != null ? ` (accuracy, macro F1 and the confusion matrix at p ≥ ${num(mt.threshold)}; ROC and PR AUC of the positive class)` : ''}`),
          h('thead', {}, h('tr', {}, ['evaluation', 'rows', ...METRICS.map((x) => x[1])].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, evals.map(([label, src, rows]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'numcell' }, count(rows)), METRICS.map(([k]) => cell(src, k))))))) : h('p', { class: 'muted' }, 'No metrics recorded.')),
      h('div', { class: 'panel-body model-grid' },
        h('div', { class: 'stack' },
          cmMatrix && cmLabels.length ? confusion(`Confusion matrix${mt.oof ? ' (out-of-fold)' : ''}: rows true, columns predicted`, cmLabels, cmMatrix, 'true', 'predicted') : null,
          per.length ? h('table', { class: 'grid compact', 'data-testid': 'model-per-class' }, h('caption', {}, 'Per class'),
            h('thead', {}, h('tr', {}, ['class', 'precision', 'recall', 'support'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, per.map(([c, v]) => h('tr', {}, h('th', { scope: 'row' }, c), h('td', { class: 'numcell' }, num(v.precision, 3)), h('td', { class: 'numcell' }, num(v.recall, 3)), h('td', { class: 'numcell' }, count(v.support)))))) : null,
          imp.length ? h('table', { class: 'grid compact counts', 'data-testid': 'model-importance' }, h('caption', {}, 'Feature importance (share of the total gain)'),
            h('tbody', {}, imp.map((x) => h('tr', {}, h('th', { scope: 'row', class: 'mono' }, x.feature),
              h('td', { class: 'numcell' }, x.share != null ? `${(100 * x.share).toFixed(1)}%` : num(x.gain)),
              h('td', { class: 'barcell' }, h('span', { class: 'hbar', style: { width: `${(100 * (Number(x.share ?? x.gain) || 0)) / maxShare}%`, background: 'var(--accent)' } })))))) : null,
          features.length ? h('details', {}, h('summary', {}, `Features (${features.length})`), h('ul', { class: 'chips' }, features.map((f) => h('li', { class: 'mono' }, f)))) : null,
          scoreBox),
        h('div', { class: 'stack' },
          m.card ? h('article', { class: 'model-card', 'aria-label': 'Model card', 'data-testid': 'model-card' }, markdown(m.card)) : h('p', { class: 'muted' }, 'This model has no card.'),
          m.data_card ? h('details', { class: 'model-card' }, h('summary', {}, 'Data card'), h('article', {}, markdown(m.data_card))) : null))),
  ];
}

/** Writes the model's p_model for the current run (POST /api/models/{name}/{version}/score). */
function scoreAction(name, version) {
  if (!state.run) return null;
  const out = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const bar = jobBar('Scoring progress', 'model-score-progress');
  const btn = h('button', { type: 'button', class: 'btn', 'data-testid': 'model-score' });
  followRun((run) => { btn.textContent = `Score run ${run ? `${run.dataset} · ${shortRunId(run)}` : state.run}`; });
  btn.onclick = async () => {
    btn.disabled = true;
    out.textContent = '';
    // note: the job may outlive a change of the header's run; the link names the run scored.
    const runId = state.run;
    try {
      const r = await inBackground(`/api/models/${enc(name)}/${enc(version)}/score`, { run_id: runId }, bar, 'Scoring…');
      replace(out, `${r.column || 'p_model'} written for ${count(r.rows)} rows${r.planets != null ? ` (${count(r.planets)} with p ≥ 0.5)` : ''}. `,
        r.warning ? `${r.warning} ` : '', h('a', { href: `#/results?run=${enc(r.run_id || runId)}` }, 'Results'));
    } catch (err) {
      out.textContent = err.message;
    } finally { btn.disabled = false; }
  };
  return h('div', { class: 'actions' }, btn, bar, out);
}

/** A progress bar for a background job, hidden until one starts. */
function jobBar(label, testid) {
  const bar = progressBar(label);
  bar.dataset.testid = testid;
  bar.hidden = true;
  return bar;
}

/**
 * POSTs to url as a background job (?background=true: a large run takes
 * minutes, beyond a request's limit), shows the job's progress in bar and
 * resolves with the job's result, which is what the waiting call answers.
 */
async function inBackground(url, body, bar, starting) {
  bar.hidden = false;
  bar.set(null, starting);
  try {
    return await jobResult(await api(url, { method: 'POST', body, query: { background: 'true' } }), bar, starting);
  } finally { bar.hidden = true; }
}

/**
 * Follows the job a POST answered with (r), showing its progress in bar,
 * and resolves with its result, or throws its error. An answer without a
 * job (a server that answered at once) is taken at its word.
 */
async function jobResult(r, bar, starting) {
  const jobId = r && r.job_id;
  if (!jobId) return r;
  let job = r;
  if (r.status !== 'complete' && r.status !== 'failed') {
    const f = followJob(jobId, (j) => {
      const p = typeof j.progress === 'number' ? j.progress : null;
      bar.set(p, j.status === 'queued' ? 'Queued…' : j.message || starting);
    });
    following.add(f);
    try { job = await f.promise; } finally { following.delete(f); }
  }
  if (job.status === 'failed') throw new Error((job.error && job.error.message) || job.message || 'The job failed.');
  return job.result || {};
}

/** Isolation Forest + LOF on the current run (POST /api/runs/{id}/anomalies). */
async function anomalyAction() {
  if (!state.run || (await has('post', '/api/runs/{id}/anomalies')) === false) return null;
  const out = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite', 'data-testid': 'run-anomalies-status' });
  const bar = jobBar('Anomaly detection progress', 'run-anomalies-progress');
  const btn = h('button', { type: 'button', class: 'btn', 'data-testid': 'run-anomalies' }, 'Detect anomalies in the current run');
  btn.onclick = async () => {
    btn.disabled = true;
    out.textContent = '';
    const runId = state.run;
    try {
      const r = await inBackground(`/api/runs/${enc(runId)}/anomalies`, undefined, bar, 'Scoring with Isolation Forest and LOF…');
      const top = Array.isArray(r.top) ? r.top.slice(0, 5).map((x) => `${x.object_id} (${num(x.anomaly_score, 3)})`).join(', ') : '';
      replace(out, `anomaly_score written for ${count(r.rows - (r.unassessed || 0))} rows${r.unassessed ? ` (${count(r.unassessed)} more have no depth, radius or duration to check: their score is empty)` : ""}; ${count(r.flagged)} flagged (anomaly_score ≥ 0.5).${top ? ` Most anomalous: ${top}. ` : ' '}`,
        h('a', { href: `#/results?run=${enc(r.run_id || runId)}&sort=anomaly_score&order=desc` }, 'Results, most anomalous first'));
    } catch (err) {
      out.textContent = err.message;
    } finally { btn.disabled = false; }
  };
  return h('details', { class: 'train' }, h('summary', {}, 'Anomaly detection'),
    h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Unsupervised: no labels involved. Scores every row of the run picked in the header.'), h('div', { class: 'actions' }, btn), bar, out));
}

function trainForm(open) {
  const target = select(TARGETS, 'confirmed_vs_fp', { id: 'train-target', 'data-testid': 'train-target' });
  const leaky = h('input', { type: 'checkbox', id: 'train-leaky' });
  const bar = progressBar('Training progress');
  bar.dataset.testid = 'train-progress';
  bar.hidden = true;
  const msg = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite', 'data-testid': 'train-status' });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'train-start' }, 'Train');
  const note = h('p', { class: 'muted small', 'data-testid': 'train-run' });
  followRun((run) => {
    note.textContent = run ? `Trains on run ${run.dataset} · ${shortRunId(run)} (the header's run), 5-fold cross-validation grouped by star plus a holdout.` : 'Trains on the only dataset\'s latest run.';
  });
  return h('details', { class: 'train', open: open || undefined }, h('summary', {}, 'Train a model'),
    h('form', {
      class: 'form panel-body', onsubmit: async (e) => {
        e.preventDefault();
        go.disabled = true;
        bar.hidden = false;
        bar.set(null, 'Starting…');
        msg.textContent = '';
        try {
          const r = await api('/api/models/train', { method: 'POST', body: { target: target.value, run_id: state.run || undefined, leaky: leaky.checked || undefined } });
          const res = await jobResult(r, bar, 'Training…');
          bar.set(1, 'Done');
          toast(`Model ${res.model || ''} trained`, 'ok');
          if (res.model && res.version) setHashParams({ model: `${res.model}/${res.version}` });
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (err) {
          bar.set(0, 'Failed');
          msg.textContent = err.message;
          msg.classList.add('error-text');
        } finally { go.disabled = false; }
      },
    },
    h('div', { class: 'actions' },
      h('label', { for: 'train-target', class: 'inline-label' }, 'Target'), target,
      h('label', { for: 'train-leaky', class: 'inline-label' }, leaky, ' leaky variant (reads Robovetter outputs; for comparison only)')),
    note,
    h('div', { class: 'actions' }, go), bar, msg));
}

/** Minimal, safe Markdown: headings, lists, code blocks, tables, paragraphs. Text only, never innerHTML. */
export function markdown(src) {
  const out = h('div');
  const lines = String(src).split('\n');
  let i = 0;
  const inline = (text) => {
    const parts = [];
    const re = /(`[^`]+`|\*\*[^*]+\*\*)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      parts.push(m[0].startsWith('`') ? h('code', {}, m[0].slice(1, -1)) : h('strong', {}, m[0].slice(2, -2)));
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    return parts;
  };
  while (i < lines.length) {
    const l = lines[i];
    if (/^```/.test(l)) {
      const buf = [];
      i += 1;
      while (i < lines.length && !/^```/.test(lines[i])) buf.push(lines[i++]);
      i += 1;
      out.append(h('pre', {}, h('code', {}, buf.join('\n'))));
    } else if (/^#{1,6} /.test(l)) {
      const level = Math.min(6, l.match(/^#+/)[0].length + 2);
      out.append(h(`h${level}`, {}, inline(l.replace(/^#+ /, ''))));
      i += 1;
    } else if (/^\s*[-*] /.test(l)) {
      const ul = h('ul');
      while (i < lines.length && /^\s*[-*] /.test(lines[i])) ul.append(h('li', {}, inline(lines[i++].replace(/^\s*[-*] /, ''))));
      out.append(ul);
    } else if (/^\|/.test(l)) {
      const rows = [];
      while (i < lines.length && /^\|/.test(lines[i])) rows.push(lines[i++]);
      const cells = (r) => r.replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      const body = rows.filter((r) => !/^\|[\s:|-]+\|$/.test(r));
      // note: a card's wide tables scroll inside their own box on a phone.
      out.append(h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `Table: ${cells(body[0] || '').slice(0, 3).join(', ')}` }, h('table', { class: 'grid compact' }, h('thead', {}, h('tr', {}, cells(body[0] || '').map((c) => h('th', { scope: 'col' }, inline(c))))),
        h('tbody', {}, body.slice(1).map((r) => h('tr', {}, cells(r).map((c) => h('td', {}, inline(c)))))))));
    } else if (!l.trim()) {
      i += 1;
    } else {
      const buf = [];
      while (i < lines.length && lines[i].trim() && !/^(#|```|\s*[-*] |\|)/.test(lines[i])) buf.push(lines[i++]);
      out.append(h('p', {}, inline(buf.join(' '))));
    }
  }
  return out;
}
