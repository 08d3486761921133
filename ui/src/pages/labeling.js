// Labeling: queue mode (one object at a time, key numbers, flags, small
// charts, keyboard shortcuts, batch progress) and review mode (pending labels
// and disagreements between human, NASA and heuristic labels, accept/reject,
// agreement tables). Works on the run picked in the header.
import { h, replace, clear, errorBox, toast, notAvailable, emptyState, progressBar, select } from '../lib/dom.js';
import { api, items, enc } from '../lib/api.js';
import { num, count, age } from '../lib/format.js';
import { CATEGORIES, DISPOSITIONS, asList, humanizeCategory, categoryColor } from '../lib/meta.js';
import { flagText, loadDictionary, categoryText } from '../lib/dict.js';
import { categoryBadge, openDetail } from '../lib/drawer.js';
import { seff } from '../lib/hz.js';
import { confusion } from '../lib/confusion.js';
import { state, runsReady, onRunChange, setHashParams, shortRunId, runFromParams } from '../lib/state.js';
import { has } from '../lib/capabilities.js';
import { columnThresholds, runThresholds } from '../lib/thresholds.js';

const ANNOTATOR_KEY = 'exohunter.annotator';
// note: no CANDIDATE key: the API stores that label as the category
// "candidate" (labels match case-insensitively, categories first), so a
// second button would save the same label under another name.
const KEYS = [
  ...CATEGORIES.map((c, i) => [String(i + 1), c]),
  ['c', 'CONFIRMED'], ['f', 'FALSE POSITIVE'],
];
const PREVIEW = 10;
const BATCH = 50;

export async function render(root, params) {
  const mode = params.get('mode') === 'review' ? 'review' : 'queue';
  let annotator = '';
  try { annotator = localStorage.getItem(ANNOTATOR_KEY) || ''; } catch { /* ignore */ }
  const body = h('div', { class: 'stack' });
  const annIn = h('input', { type: 'text', id: 'annotator', value: annotator, placeholder: 'your name', autocomplete: 'name', size: 14, 'data-testid': 'annotator' });
  const saveAnnotator = () => { annotator = annIn.value.trim(); try { localStorage.setItem(ANNOTATOR_KEY, annotator); } catch { /* ignore */ } };
  annIn.onchange = saveAnnotator;
  annIn.oninput = saveAnnotator;
  const tab = (m, label) => h('a', { href: `#/labeling?mode=${m}`, class: 'tab-link', 'aria-current': m === mode ? 'page' : undefined, 'data-testid': `labeling-${m}` }, label);
  const runInfo = h('p', { class: 'muted' });
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Labeling'),
      h('nav', { class: 'subnav', 'aria-label': 'Labeling modes' }, tab('queue', 'Queue'), tab('review', 'Review')),
      h('div', { class: 'fctl' }, h('label', { for: 'annotator' }, 'Annotator'), annIn), runInfo),
    body);
  runFromParams(params);
  await Promise.all([loadDictionary(), runsReady]);
  if ((await has('get', '/api/labels/queue')) === false) { unavailable(body); return null; }

  const getAnnotator = () => annIn.value.trim() || annotator;
  let cleanup = null;
  const show = async () => {
    if (cleanup) { cleanup(); cleanup = null; }
    const run = state.runs.find((r) => r.run_id === state.run) || null;
    runInfo.textContent = run ? `${run.dataset} · run ${shortRunId(run)}` : '';
    // note: the URL names the run, so a reload or a bookmark labels the same one.
    setHashParams({ mode: mode === 'review' ? 'review' : undefined, run: state.run });
    if (!state.run) {
      replace(body, emptyState('Nothing to label yet',
        'Labeling works on the objects of a run. Import a catalog on the Datasets page and run it; its objects then queue here, the most informative first.',
        'labeling-empty', h('p', {}, h('a', { class: 'btn', href: '#/datasets' }, 'Datasets'), ' ', h('a', { class: 'btn', href: '#/run' }, 'Run'))));
      return;
    }
    if (mode === 'queue') cleanup = await queueMode(body, state.run, getAnnotator, annIn);
    else await reviewMode(body, run, getAnnotator);
  };
  const off = onRunChange(() => show());
  await show();
  return () => { off(); if (cleanup) cleanup(); };
}

function unavailable(box) {
  replace(box, notAvailable('Labeling is not available yet',
    'This server does not offer the labeling API yet (GET /api/labels/queue). When it does, objects come here one at a time to label, and pending labels and disagreements can be reviewed.'));
}

function needName(annIn, what) {
  annIn.focus();
  toast(`Enter your name first: ${what} record who made them.`, 'error');
}

async function queueMode(box, runId, getAnnotator, annIn) {
  const strategy = select([['priority', 'priority (category, flags, uncertainty)'], ['uncertainty', 'uncertainty (probability near 0.5)'], ['random', 'random']], 'priority', { id: 'q-strategy' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'queue-start' }, `Start a batch of ${BATCH}`);
  const previewBox = h('div', { class: 'panel-body', 'data-testid': 'queue-preview' }, h('p', { class: 'muted' }, 'Loading the queue…'));
  const card = h('div', { 'data-testid': 'queue-card' });
  replace(box,
    h('section', { class: 'panel', 'aria-labelledby': 'queue-title' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'queue-title' }, 'Labeling queue'),
        h('div', { class: 'actions' }, h('label', { for: 'q-strategy', class: 'inline-label' }, 'Order by'), strategy, startBtn)),
      previewBox,
      h('p', { class: 'muted small panel-foot' }, `A batch claims its objects for you, so two annotators never get the same ones. The list above only peeks: it claims nothing.`)),
    card);

  let peekSeq = 0;
  async function peek() {
    const my = ++peekSeq;
    let list;
    try {
      list = items(await api('/api/labels/queue', { query: { run: runId, strategy: strategy.value, limit: PREVIEW } }));
    } catch (err) {
      if (my !== peekSeq) return;
      if (err.missing) { unavailable(box); return; }
      replace(previewBox, errorBox(err, 'Could not read the queue.'));
      return;
    }
    if (my !== peekSeq) return;
    startBtn.disabled = !list.length;
    if (!list.length) {
      replace(previewBox, h('p', { class: 'empty' }, 'The queue is empty: every object of this run that needs a human eye has a label or is claimed.'));
      return;
    }
    const anomalies = list.some((it) => it.reason && it.reason.anomaly != null);
    replace(previewBox, h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact', 'data-testid': 'queue-table' },
      h('caption', {}, `Next ${list.length} objects (${strategy.value})`),
      h('thead', {}, h('tr', {}, queueHeads(anomalies).map(([c, title]) => h('th', { scope: 'col', title: title || undefined }, c)))),
      h('tbody', {}, list.map((it) => {
        const r = it.reason || {};
        const flags = asList(r.flags);
        return h('tr', { 'data-object': it.object_id },
          h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike mono', onclick: () => openDetail(it.run_id || runId, it.object_id) }, it.object_id)),
          h('td', {}, categoryBadge(it.category)),
          h('td', { class: 'numcell' }, num(it.priority, 3)),
          h('td', { class: 'numcell' }, num(r.category_weight, 3)),
          h('td', { class: 'numcell' }, num(r.flag_weight, 3)),
          h('td', { class: 'numcell' }, num(r.uncertainty, 3)),
          anomalies ? h('td', { class: 'numcell' }, r.anomaly == null ? '—' : num(r.anomaly, 3)) : null,
          h('td', { title: flags.map((f) => `${f}: ${flagText(f)}`).join('\n') }, flags.length ? flags.join(', ') : '—'));
      })))));
  }
  strategy.onchange = () => { if (!batch.length || i >= batch.length) peek(); };

  let batch = [];
  let i = 0;
  let done = 0;
  let skipped = 0;
  let busy = false;
  let noteIn = null;
  let current = null;
  // last is the label just given ({id, item, label}), which u (or the
  // Undo button) withdraws: a reject review by its own annotator, so it
  // counts nowhere (stats, training, queue), and the object is shown again.
  let last = null;

  startBtn.onclick = async () => {
    const who = getAnnotator();
    if (!who) { needName(annIn, 'labels'); return; }
    startBtn.disabled = true;
    try {
      batch = items(await api('/api/labels/queue', { query: { run: runId, strategy: strategy.value, limit: BATCH, annotator: who } }));
    } catch (err) {
      replace(card, errorBox(err, 'Could not fetch a batch.'));
      startBtn.disabled = false;
      return;
    }
    i = 0; done = 0; skipped = 0; last = null;
    startBtn.disabled = false;
    showItem();
    peek(); // note: the claimed objects leave the queue; the preview shows what is next
  };

  async function showItem() {
    if (i >= batch.length) {
      current = null;
      replace(card, h('section', { class: 'panel panel-body', 'data-testid': 'batch-done' }, h('h2', {}, batch.length ? 'Batch finished' : 'Nothing left to claim'),
        h('p', {}, `${count(done)} labeled, ${count(skipped)} skipped.`), h('button', { type: 'button', class: 'btn', onclick: () => startBtn.click() }, 'Next batch'),
        last ? h('button', { type: 'button', class: 'btn-ghost', 'aria-keyshortcuts': 'u', 'data-testid': 'label-undo', onclick: undo }, h('kbd', {}, 'u'), ` undo ${last.item.object_id}`) : null));
      peek();
      return;
    }
    const item = batch[i];
    current = item;
    const prog = progressBar('Batch progress');
    prog.dataset.testid = 'batch-progress';
    prog.set(i / batch.length, `${i} of ${batch.length} · ${done} labeled · ${skipped} skipped`);
    noteIn = h('textarea', { id: 'label-note', rows: 2, placeholder: 'optional note (n to focus, Esc to leave)' });
    const numbers = h('div', { class: 'keynums' }, h('p', { class: 'muted' }, 'Loading object…'));
    const charts = h('div', { class: 'minicharts' });
    const flagsBox = h('div');
    const r = item.reason || {};
    const title = h('h2', { id: 'label-obj', tabindex: '-1' }, h('span', { class: 'mono' }, item.object_id));
    replace(card, h('section', { class: 'panel label-card', 'aria-labelledby': 'label-obj', 'data-testid': 'label-card', 'data-object': item.object_id },
      h('header', { class: 'panel-head' },
        h('div', { class: 'actions' }, title, categoryBadge(item.category)),
        h('button', { type: 'button', class: 'btn-ghost', onclick: () => openDetail(item.run_id || runId, item.object_id) }, 'All columns')),
      h('div', { class: 'panel-body' }, prog,
        h('p', { class: 'muted small' }, `dataset ${item.dataset || '—'} · priority ${num(item.priority, 3)} = category ${num(r.category_weight, 3)} + flags ${num(r.flag_weight, 3)} + uncertainty ${num(r.uncertainty, 3)} (${r.p_model == null ? "from the run's rule score: no model scored it" : `model p = ${num(r.p_model, 3)}`})${r.anomaly == null ? '' : ` + anomaly ${num(r.anomaly, 3)}`}`),
        h('div', { class: 'label-grid' }, numbers, charts), flagsBox,
        h('div', { class: 'label-actions', role: 'group', 'aria-label': 'Label this object' },
          KEYS.map(([k, label]) => h('button', { type: 'button', class: 'label-btn', style: { '--c': categoryColor(label) }, title: categoryText(label) || label, 'aria-keyshortcuts': k, onclick: () => submit(label) },
            h('kbd', {}, k), ' ', humanizeCategory(label).toLowerCase()))),
        h('div', { class: 'note-row' }, h('label', { for: 'label-note' }, 'Note'), noteIn,
          h('button', { type: 'button', class: 'btn-ghost', 'aria-keyshortcuts': 's', onclick: skip }, h('kbd', {}, 's'), ' skip'),
          last ? h('button', { type: 'button', class: 'btn-ghost', 'aria-keyshortcuts': 'u', 'data-testid': 'label-undo', onclick: undo, title: `withdraw ${last.item.object_id}: ${humanizeCategory(last.label).toLowerCase()}` }, h('kbd', {}, 'u'), ` undo ${last.item.object_id}`) : null),
        h('p', { class: 'muted small' }, 'Shortcuts: 1–9 categories, c confirmed, f false positive, s skip, u undo the last label, n note.'))));
    if (!card.contains(document.activeElement)) {
      title.focus({ preventScroll: true });
      // note: the card opens below the batch preview; bring it into view.
      card.scrollIntoView({ block: 'nearest' });
    }
    // Key numbers and small charts from the run's row.
    let row = null;
    try {
      const d = await api(`/api/runs/${enc(item.run_id || runId)}/results/${enc(item.object_id)}`);
      row = Array.isArray(d.rows) ? d.rows.find((x) => x.is_default !== false) || d.rows[0] : d.row || d;
    } catch { row = null; }
    if (current !== item) return;
    const flags = asList((row && row.flags) || r.flags);
    replace(flagsBox, flags.length ? h('ul', { class: 'flags' }, flags.map((f) => h('li', {}, h('code', {}, f), ' — ', flagText(f)))) : h('p', { class: 'muted' }, 'No flags.'));
    if (!row) { replace(numbers, h('p', { class: 'muted' }, 'Object details unavailable.')); return; }
    const kv = [
      ['Period', 'koi_period', 'd'], ['Radius', 'koi_prad', 'R⊕'], ['Insolation', 'koi_insol', 'S⊕'],
      ['Teq', 'koi_teq', 'K'], ['Depth', 'koi_depth', 'ppm'], ['Duration', 'koi_duration', 'h'],
      ['Duration ratio', 'duration_ratio', ''], ['Star Teff', 'koi_steff', 'K'], ['Star radius', 'koi_srad', 'R☉'],
      ['Score', 'score', ''], ['NASA', 'koi_disposition', ''], ['Model p', 'p_model', ''], ['Anomaly', 'anomaly_score', ''],
    ].filter(([, c]) => row[c] !== undefined);
    const [near, thr] = await Promise.all([columnThresholds(item.run_id || runId), runThresholds(item.run_id || runId)]);
    if (current !== item) return;
    replace(numbers, h('dl', {}, kv.map(([k, c, u]) => [h('dt', {}, k), h('dd', {}, typeof row[c] === 'number' ? num(row[c], 4, near(c)) : row[c] ?? '—', u && row[c] != null ? h('span', { class: 'unit' }, ` ${u}`) : null)])));
    replace(charts, radiusGauge(row.koi_prad), hzGauge(row.koi_insol, row.koi_steff), ratioGauge(row, thr));
  }

  async function submit(label) {
    if (busy || !current) return;
    const who = getAnnotator();
    if (!who) { needName(annIn, 'labels'); return; }
    busy = true;
    const item = current;
    try {
      const saved = await api('/api/labels', { method: 'POST', body: { object_id: item.object_id, dataset: item.dataset, run_id: item.run_id || runId, label, source: 'human', annotator: who, note: noteIn && noteIn.value.trim() ? noteIn.value.trim() : undefined } });
      toast(`${item.object_id}: ${humanizeCategory(label).toLowerCase()} (u to undo)`, 'ok', 2500);
      last = saved && saved.id != null ? { id: saved.id, item, label } : null;
      done += 1;
      i += 1;
      showItem();
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      busy = false;
    }
  }
  function skip() { if (!current) return; skipped += 1; i += 1; last = null; showItem(); }
  async function undo() {
    if (busy || !last) return;
    const who = getAnnotator();
    if (!who) { needName(annIn, 'labels'); return; }
    busy = true;
    const l = last;
    try {
      await api(`/api/labels/${enc(l.id)}/review`, { method: 'POST', body: { status: 'reject', reviewer: who, note: 'withdrawn by its annotator (undo)' } });
      last = null;
      done -= 1;
      i -= 1;
      batch[i] = l.item;
      toast(`${l.item.object_id}: ${humanizeCategory(l.label).toLowerCase()} withdrawn`, 'ok', 2500);
      showItem();
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      busy = false;
    }
  }

  const onKey = (e) => {
    if ((!current && !(last && e.key === 'u')) || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t === noteIn) { if (e.key === 'Escape') { noteIn.blur(); e.preventDefault(); } return; }
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (document.querySelector('.drawer-backdrop')) return;
    const hit = KEYS.find(([k]) => k === e.key.toLowerCase());
    if (hit) { e.preventDefault(); submit(hit[1]); } else if (e.key === 's') { e.preventDefault(); skip(); } else if (e.key === 'u') { e.preventDefault(); undo(); } else if (e.key === 'n') { e.preventDefault(); noteIn.focus(); }
  };
  document.addEventListener('keydown', onKey);
  await peek();
  return () => { current = null; document.removeEventListener('keydown', onKey); };
}

// --- small charts -----------------------------------------------------------
function gauge(title, lo, hi, log, marks, value, band) {
  const W = 220;
  const pos = (v) => {
    const t = log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    return 6 + Math.max(0, Math.min(1, t)) * (W - 12);
  };
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
  const svg = el('svg', { viewBox: `0 0 ${W} 44`, class: 'gauge', role: 'img', 'aria-label': `${title}: ${value == null ? 'missing' : num(value)}` });
  svg.append(el('rect', { x: 6, y: 16, width: W - 12, height: 6, rx: 3, class: 'gauge-track' }));
  if (band) svg.append(el('rect', { x: pos(band[0]), y: 16, width: Math.max(2, pos(band[1]) - pos(band[0])), height: 6, class: 'gauge-band' }));
  for (const [v, name] of marks) {
    svg.append(el('line', { x1: pos(v), x2: pos(v), y1: 12, y2: 26, class: 'gauge-mark' }));
    svg.append(el('text', { x: pos(v), y: 38, 'text-anchor': 'middle', class: 'gauge-text' }, name));
  }
  if (value != null && Number.isFinite(value) && (!log || value > 0)) svg.append(el('circle', { cx: pos(value), cy: 19, r: 5, class: 'gauge-dot' }));
  return h('figure', { class: 'mini' }, h('figcaption', {}, title), svg);
}
function radiusGauge(r) {
  return gauge('Radius vs Earth, Neptune, Jupiter', 0.3, 40, true, [[1, '⊕'], [3.87, 'N'], [11.2, 'J']], r, null);
}
function hzGauge(s, teff) {
  if (teff == null || s == null) return gauge('Insolation (no HZ: Teff missing)', 0.05, 2000, true, [[1, '⊕']], s, null);
  const inner = seff('recent_venus', teff);
  const outer = seff('early_mars', teff);
  return gauge('Insolation vs optimistic HZ', 0.05, 2000, true, [[1, '⊕']], s, [outer, inner]);
}
// ratioGauge marks where the run's own duration rules fall on this
// object's measured / expected scale (a run made with overrides has its
// own): too short below duration_ratio.min, judged at the catalogued
// impact parameter and so only when there is one; too long above
// duration_ratio.max times a central transit's duration, which is
// max · max_duration_hours / expected_duration_hours on this scale (the
// two durations differ by the impact parameter). 1 is marked unless a
// bound is next to it; a bound the row or run cannot give is left out.
function ratioGauge(row, thr) {
  const ok = (x) => typeof x === 'number' && Number.isFinite(x);
  const min = ok(thr['duration_ratio.min']) && row.koi_impact != null ? thr['duration_ratio.min'] : null;
  const max = ok(thr['duration_ratio.max']) && row.max_duration_hours > 0 && row.expected_duration_hours > 0
    ? thr['duration_ratio.max'] * row.max_duration_hours / row.expected_duration_hours : null;
  const hi = max != null ? Math.max(3, Math.ceil(max + 0.5)) : 3;
  const marks = [];
  if (min != null) marks.push([min, num(min, 3)]);
  if ((min == null || Math.abs(1 - min) / hi > 0.06) && (max == null || Math.abs(max - 1) / hi > 0.06)) marks.push([1, '1']);
  if (max != null) marks.push([max, num(max, 3)]);
  const band = min != null || max != null ? [min ?? 0, max ?? hi] : null;
  return gauge('Duration ratio (measured / expected)', 0, hi, false, marks, row.duration_ratio, band);
}

// --- review -----------------------------------------------------------------
async function reviewMode(box, run, getAnnotator) {
  replace(box, h('p', { class: 'muted' }, 'Loading…'));
  let pending = [];
  let pendingTotal = null;
  let disagreements = [];
  let disTotal = null;
  try {
    if ((await has('get', '/api/labels/review')) === false) throw Object.assign(new Error('no review route'), { missing: true });
    const r = await api('/api/labels/review', { query: { limit: 200 } });
    pending = items(r && r.pending ? r.pending : []);
    disagreements = items(r && r.disagreements ? r.disagreements : []);
    pendingTotal = r && typeof r.pending_total === 'number' ? r.pending_total : null;
    disTotal = r && typeof r.disagreements_total === 'number' ? r.disagreements_total : null;
  } catch (err) {
    if (!err.missing) { replace(box, errorBox(err)); return; }
    try {
      pending = items(await api('/api/labels', { query: { review_status: 'pending', limit: 200 } }));
    } catch (err2) {
      if (err2.missing) { unavailable(box); return; }
      replace(box, errorBox(err2));
      return;
    }
  }
  const statsBox = h('div');
  const importBox = h('div');
  const annIn = () => document.getElementById('annotator');
  const runFor = (dataset) => (run && run.dataset === dataset ? run.run_id : null);
  const pendingTitle = h('h2', { id: 'pending-title', 'data-testid': 'pending-title' });
  const showPendingTotal = () => { pendingTitle.textContent = `Pending labels (${count(pendingTotal ?? pending.length)})`; };
  showPendingTotal();
  // A decision can be changed: the latest review is the label's status, so
  // only the button of the decision just taken is disabled.
  const review = async (labelId, decision, rowEl) => {
    const reviewer = getAnnotator();
    if (!reviewer) { needName(annIn(), 'reviews'); return; }
    try {
      await api(`/api/labels/${enc(labelId)}/review`, { method: 'POST', body: { status: decision, reviewer } });
      // note: the label may show in both lists (pending, and the object's
      // disagreement); both rows say what was decided.
      const prow = box.querySelector(`[data-testid=pending-table] tr[data-label-id="${labelId}"]`);
      const obj = (prow || rowEl).dataset.object;
      const drow = obj ? box.querySelector(`[data-testid=disagreements-table] tr[data-object="${CSS.escape(obj)}"]`) : null;
      const first = prow ? !prow.classList.contains('reviewed') : false;
      for (const r of new Set([rowEl, prow, drow].filter(Boolean))) {
        r.classList.add('reviewed');
        for (const b of r.querySelectorAll('button[data-decision]')) b.disabled = b.dataset.decision === decision;
        r.querySelector('.review-state').textContent = decision === 'accept' ? 'accepted' : 'rejected';
      }
      if (first) {
        if (pendingTotal != null) pendingTotal = Math.max(0, pendingTotal - 1);
        else pending = pending.filter((l) => l.id !== labelId);
        showPendingTotal();
      }
      loadStats();
    } catch (err) { toast(err.message, 'error'); }
  };
  const labelAs = async (d, label, rowEl) => {
    const annotator = getAnnotator();
    if (!annotator) { needName(annIn(), 'labels'); return; }
    try {
      await api('/api/labels', { method: 'POST', body: { object_id: d.object_id, dataset: d.dataset, run_id: d.run_id || runFor(d.dataset) || undefined, label, source: 'human', annotator, note: 'resolved in review' } });
      rowEl.classList.add('reviewed');
      for (const b of rowEl.querySelectorAll('button.btn-small')) b.disabled = true;
      rowEl.querySelector('.review-state').textContent = `labeled ${label}`;
      loadStats();
    } catch (err) { toast(err.message, 'error'); }
  };
  // A disagreement names labels (strings, or Label objects with ids); the pending list has the ids of human labels.
  const labelOf = (x) => (x && typeof x === 'object' ? x.label : x) ?? null;
  const pendingHuman = (d) => pending.find((l) => l.object_id === d.object_id && l.dataset === d.dataset && l.source === 'human');
  const sourcesOf = (d) => {
    const L = d.labels && typeof d.labels === 'object' ? d.labels : d;
    return { human: L.human, nasa: L.nasa, heuristic: L.heuristic, model: L.model };
  };
  const cellLabel = (v) => (labelOf(v) ? h('span', { class: 'badge cat', style: { '--c': categoryColor(labelOf(v)) } }, humanizeCategory(labelOf(v)).toLowerCase()) : h('span', { class: 'muted' }, '—'));
  const openObj = (d) => {
    const rid = d.run_id || runFor(d.dataset);
    return h('button', { type: 'button', class: 'linklike mono', disabled: !rid, title: rid ? 'All columns' : 'Pick a run of this dataset in the header to see its columns', onclick: () => openDetail(rid, d.object_id) }, d.object_id);
  };
  const hasModel = disagreements.some((d) => labelOf(sourcesOf(d).model));
  // note: the import tools come first and the long lists scroll inside
  // their panels, so 200 disagreements do not push them out of sight.
  replace(box, importBox,
    h('section', { class: 'panel', 'aria-labelledby': 'pending-title', 'data-testid': 'review-pending' },
      h('header', { class: 'panel-head' }, pendingTitle,
        h('span', { class: 'muted small' }, 'Human and model labels nobody has reviewed yet, oldest first.')),
      h('div', { class: 'panel-body table-wrap tall-list' }, pending.length ? h('table', { class: 'grid compact', 'data-testid': 'pending-table' },
        h('thead', {}, h('tr', {}, ['object', 'dataset', 'label', 'source', 'annotator', 'note', 'when', 'review', 'actions'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, pending.map((l) => {
          const tr = h('tr', { 'data-label-id': l.id, 'data-object': l.object_id },
            h('th', { scope: 'row' }, openObj(l)), h('td', {}, l.dataset),
            h('td', {}, cellLabel(l.label)), h('td', {}, l.source), h('td', {}, l.annotator || '—'), h('td', {}, l.note || ''), h('td', {}, age(l.created_at)),
            h('td', { class: 'review-state muted' }),
            h('td', { class: 'actions' },
              h('button', { type: 'button', class: 'btn-small', 'data-testid': 'review-accept', 'data-decision': 'accept', onclick: () => review(l.id, 'accept', tr) }, 'Accept'),
              h('button', { type: 'button', class: 'btn-small btn-danger-ghost', 'data-testid': 'review-reject', 'data-decision': 'reject', onclick: () => review(l.id, 'reject', tr) }, 'Reject')));
          return tr;
        }))) : h('p', { class: 'empty' }, 'Nothing pending: every human and model label has been reviewed.'))),
    h('section', { class: 'panel', 'aria-labelledby': 'dis-title', 'data-testid': 'review-disagreements' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'dis-title' }, `Disagreements between human, NASA and heuristic labels (${count(disTotal ?? disagreements.length)})`),
        disTotal != null && disTotal > disagreements.length ? h('span', { class: 'muted small' }, `the first ${count(disagreements.length)}, human labels first`) : null),
      h('div', { class: 'panel-body table-wrap tall-list' }, disagreements.length ? h('table', { class: 'grid compact', 'data-testid': 'disagreements-table' },
        h('thead', {}, h('tr', {}, ['object', 'dataset', 'human', 'NASA', 'heuristic', ...(hasModel ? ['model'] : []), 'resolution', 'actions'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, disagreements.map((d) => {
          const L = sourcesOf(d);
          const human = L.human && typeof L.human === 'object' && L.human.id ? L.human : (labelOf(L.human) ? pendingHuman(d) : null);
          const tr = h('tr', { 'data-object': d.object_id },
            h('th', { scope: 'row' }, openObj(d)), h('td', {}, d.dataset || '—'),
            h('td', {}, cellLabel(L.human)), h('td', {}, cellLabel(L.nasa)), h('td', {}, cellLabel(L.heuristic)), hasModel ? h('td', {}, cellLabel(L.model)) : null,
            h('td', { class: 'review-state muted' }),
            h('td', { class: 'actions' },
              human && human.id ? [
                h('button', { type: 'button', class: 'btn-small', 'data-decision': 'accept', onclick: () => review(human.id, 'accept', tr) }, 'Accept human'),
                h('button', { type: 'button', class: 'btn-small btn-danger-ghost', 'data-decision': 'reject', onclick: () => review(human.id, 'reject', tr) }, 'Reject human')] : null,
              labelOf(L.nasa) ? h('button', { type: 'button', class: 'btn-small', onclick: () => labelAs(d, labelOf(L.nasa), tr) }, 'Side with NASA') : null,
              labelOf(L.heuristic) ? h('button', { type: 'button', class: 'btn-small', onclick: () => labelAs(d, labelOf(L.heuristic), tr) }, 'Side with heuristic') : null));
          return tr;
        }))) : h('p', { class: 'empty' }, 'No disagreements. NASA and heuristic labels take part once imported (above); human labels as soon as they are given.'))),
    statsBox);

  async function loadStats() {
    if ((await has('get', '/api/labels/stats')) === false) return;
    let stats;
    try { stats = await api('/api/labels/stats'); } catch { clear(statsBox); return; }
    replace(statsBox, statsPanel(stats));
    replace(importBox, importPanel(stats && stats.sources));
  }

  function importPanel(sources) {
    if (!run || !sources) return h('div');
    const result = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
    const go = async (body, btn) => {
      btn.disabled = true;
      result.textContent = 'Importing…';
      try {
        const r = await api('/api/labels/import', { method: 'POST', body });
        result.textContent = `${count(r.inserted)} ${r.source} labels added; ${count(r.labeled_objects)} objects of ${r.dataset} carry one.`;
        toast(`Imported ${count(r.inserted)} ${r.source} labels`, 'ok');
        window.dispatchEvent(new HashChangeEvent('hashchange')); // show the new disagreements
      } catch (err) {
        result.textContent = '';
        toast(err.message, 'error');
      } finally { btn.disabled = false; }
    };
    const nasaBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'import-nasa', onclick: () => go({ source: 'nasa', dataset: run.dataset }, nasaBtn) }, `Import NASA dispositions of ${run.dataset}`);
    const heurBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'import-heuristic', onclick: () => go({ source: 'heuristic', run_id: run.run_id }, heurBtn) }, 'Import this run\'s categories');
    const n = (k) => count(sources[k] || 0);
    return h('section', { class: 'panel', 'aria-labelledby': 'import-title', 'data-testid': 'label-sources', dataset: { human: String(sources.human || 0), nasa: String(sources.nasa || 0), heuristic: String(sources.heuristic || 0) } },
      h('header', { class: 'panel-head' }, h('h2', { id: 'import-title' }, 'Label sources'),
        h('span', { class: 'muted small' }, `objects with a current label: human ${n('human')} · NASA ${n('nasa')} · heuristic ${n('heuristic')} · model ${n('model')}`)),
      h('div', { class: 'panel-body' },
        (!sources.nasa || !sources.heuristic) ? h('p', { class: 'muted' }, 'Disagreements compare the sources an object has labels from. Import the catalog\'s dispositions and this run\'s categories to compare them with each other and with human labels.') : null,
        h('div', { class: 'actions' }, nasaBtn, heurBtn), result));
  }

  await loadStats();
  setHashParams({ mode: 'review', run: state.run });
}

function statsPanel(stats) {
  // GET /api/labels/stats: {sources, tables:[{a, b, objects, agree, agreement, classes, matrix}]};
  // any other nesting of {labels|classes, matrix} objects is drawn too.
  const tables = [];
  const visit = (name, v) => {
    if (!v || typeof v !== 'object') return;
    const names = Array.isArray(v.classes) ? v.classes : Array.isArray(v.labels) && v.labels.every((x) => typeof x === 'string') ? v.labels : null;
    if (names && Array.isArray(v.matrix)) { tables.push([v.a && v.b ? `${v.a} vs ${v.b}` : name, { ...v, names }]); return; }
    if (Array.isArray(v)) v.forEach((x, i) => visit(name ? `${name} ${i + 1}` : String(i + 1), x));
    else for (const [k, x] of Object.entries(v)) visit(name ? `${name} · ${k}` : k, x);
  };
  visit('', stats);
  if (!tables.length) return h('div');
  const filled = tables.filter(([, t]) => t.objects === undefined ? t.matrix.flat().some((x) => Number(x) > 0) : t.objects > 0);
  const empty = tables.filter((t) => !filled.includes(t));
  const nameOf = (s) => ({ nasa: 'NASA', human: 'human', heuristic: 'heuristic', model: 'model' }[s] || s);
  return h('section', { class: 'panel', 'aria-labelledby': 'stats-title', 'data-testid': 'label-stats' },
    h('header', { class: 'panel-head' }, h('h2', { id: 'stats-title' }, 'Agreement between sources'),
      h('span', { class: 'muted small' }, 'by disposition class: CONFIRMED ~ confirmed planet, FALSE POSITIVE ~ likely false positive, CANDIDATE ~ the candidate kinds')),
    h('div', { class: 'panel-body stat-tables' },
      filled.map(([name, t]) => confusion(
        `${t.a && t.b ? `${nameOf(t.a)} vs ${nameOf(t.b)}` : name}${t.objects != null ? ` · ${count(t.objects)} objects` : ''}${t.agreement != null ? ` · ${(100 * t.agreement).toFixed(1)}% agree` : ''}`,
        t.names, t.matrix, t.row_label || (t.a ? nameOf(t.a) : 'actual'), t.col_label || (t.b ? nameOf(t.b) : 'predicted'))),
      empty.length ? h('p', { class: 'muted' }, `No object has labels from both sides yet: ${empty.map(([name, t]) => (t.a && t.b ? `${nameOf(t.a)} vs ${nameOf(t.b)}` : name)).join(', ')}.`) : null));
}

export { DISPOSITIONS };

/** The queue table's columns and what each means (configs/labeling.yaml). */
function queueHeads(anomalies) {
  return [
    ['object', ''],
    ['category', ''],
    ['priority', 'The sum of the terms to its right; the queue shows the highest first'],
    ['category weight', 'category_weights of configs/labeling.yaml'],
    ['flag weight', 'The interesting_flags weights of the flags the object carries'],
    ['uncertainty term', 'uncertainty.factor × (1 − 2·|p − 0.5|), p being the model probability when a model scored the run, else the run\'s score: the factor at p = 0.5, 0 at p = 0 or 1'],
    ...(anomalies ? [['anomaly term', 'anomaly.weight × anomaly_score, once a detector scored the run']] : []),
    ['flags', 'The flags that weigh'],
  ];
}
