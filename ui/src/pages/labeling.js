// Labeling: queue mode (one object at a time, key numbers, flags, small
// charts, keyboard shortcuts, batch progress) and review mode (pending labels
// and disagreements, accept/reject). Shows "not available yet" while the
// labeling endpoints answer 404.
import { h, replace, clear, errorBox, toast, notAvailable, progressBar, select } from '../lib/dom.js';
import { api, items, enc } from '../lib/api.js';
import { num, count, age } from '../lib/format.js';
import { CATEGORIES, DISPOSITIONS, asList, humanizeCategory, categoryColor } from '../lib/meta.js';
import { flagText, loadDictionary, categoryText } from '../lib/dict.js';
import { categoryBadge, openDetail } from '../lib/drawer.js';
import { seff } from '../lib/hz.js';
import { setHashParams } from '../lib/state.js';
import { has } from '../lib/capabilities.js';

const ANNOTATOR_KEY = 'exohunter.annotator';
const KEYS = [
  ...CATEGORIES.map((c, i) => [String(i + 1), c]),
  ['c', 'CONFIRMED'], ['d', 'CANDIDATE'], ['f', 'FALSE POSITIVE'],
];

export async function render(root, params) {
  const mode = params.get('mode') === 'review' ? 'review' : 'queue';
  let annotator = '';
  try { annotator = localStorage.getItem(ANNOTATOR_KEY) || ''; } catch { /* ignore */ }
  const body = h('div', { class: 'stack' });
  const annIn = h('input', { type: 'text', id: 'annotator', value: annotator, placeholder: 'your name', autocomplete: 'name', size: 14 });
  annIn.onchange = () => { annotator = annIn.value.trim(); try { localStorage.setItem(ANNOTATOR_KEY, annotator); } catch { /* ignore */ } };
  const tab = (m, label) => h('a', { href: `#/labeling?mode=${m}`, class: 'tab-link', 'aria-current': m === mode ? 'page' : undefined }, label);
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Labeling'),
      h('nav', { class: 'subnav', 'aria-label': 'Labeling modes' }, tab('queue', 'Queue'), tab('review', 'Review')),
      h('div', { class: 'fctl' }, h('label', { for: 'annotator' }, 'Annotator'), annIn)),
    body);
  await loadDictionary();
  if ((await has('get', '/api/labels/queue')) === false) { unavailable(body); return null; }
  let cleanup = null;
  if (mode === 'queue') cleanup = await queueMode(body, () => annotator, annIn);
  else await reviewMode(body, () => annotator);
  return () => { if (cleanup) cleanup(); };
}

function unavailable(box) {
  replace(box, notAvailable('Labeling is not available yet',
    'This server does not offer the labeling API yet (GET /api/labels/queue). When it does, objects come here one at a time to label, and pending labels and disagreements can be reviewed.'));
}

async function queueMode(box, getAnnotator, annIn) {
  const strategy = select([['priority', 'priority'], ['uncertainty', 'uncertainty'], ['random', 'random']], 'priority', { id: 'q-strategy' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Start a batch');
  const head = h('div', { class: 'toolbar' },
    h('div', { class: 'actions' }, h('label', { for: 'q-strategy', class: 'inline-label' }, 'Strategy'), strategy, startBtn),
    h('p', { class: 'muted small' }, 'A batch claims its objects for you, so two annotators never get the same ones.'));
  const card = h('div');
  replace(box, head, card);

  // Probe without claiming anything, so the page can say at once whether labeling exists.
  try {
    const peek = await api('/api/labels/queue', { query: { limit: 1 } });
    const n = items(peek).length;
    replace(card, h('p', { class: 'empty' }, n ? 'Objects are waiting. Enter your name and start a batch.' : 'The queue is empty: every object that needs a human eye has a label.'));
  } catch (err) {
    if (err.missing) { unavailable(box); return null; }
    replace(card, errorBox(err));
  }

  let batch = [];
  let i = 0;
  let done = 0;
  let skipped = 0;
  let busy = false;
  let noteIn = null;
  let current = null;

  startBtn.onclick = async () => {
    const who = getAnnotator() || annIn.value.trim();
    if (!who) { annIn.focus(); toast('Enter your name first: labels record their annotator.', 'error'); return; }
    try {
      batch = items(await api('/api/labels/queue', { query: { strategy: strategy.value, limit: 50, annotator: who } }));
    } catch (err) {
      replace(card, errorBox(err, 'Could not fetch a batch.'));
      return;
    }
    i = 0; done = 0; skipped = 0;
    show();
  };

  async function show() {
    if (i >= batch.length) {
      replace(card, h('section', { class: 'panel panel-body' }, h('h2', {}, 'Batch finished'),
        h('p', {}, `${count(done)} labeled, ${count(skipped)} skipped.`), h('button', { type: 'button', class: 'btn', onclick: () => startBtn.click() }, 'Next batch')));
      current = null;
      return;
    }
    const item = batch[i];
    current = item;
    const prog = progressBar('Batch progress');
    prog.set(i / batch.length, `${i} of ${batch.length} · ${done} labeled · ${skipped} skipped`);
    noteIn = h('textarea', { id: 'label-note', rows: 2, placeholder: 'optional note (n to focus, Esc to leave)' });
    const numbers = h('div', { class: 'keynums' }, h('p', { class: 'muted' }, 'Loading object…'));
    const charts = h('div', { class: 'minicharts' });
    const flagsBox = h('div');
    const r = item.reason || {};
    replace(card, h('section', { class: 'panel label-card', 'aria-labelledby': 'label-obj' },
      h('header', { class: 'panel-head' },
        h('h2', { id: 'label-obj' }, h('span', { class: 'mono' }, item.object_id)), categoryBadge(item.category),
        h('button', { type: 'button', class: 'btn-ghost', onclick: () => openDetail(item.run_id, item.object_id) }, 'All columns')),
      h('div', { class: 'panel-body' }, prog,
        h('p', { class: 'muted small' }, `dataset ${item.dataset || '—'} · run ${item.run_id || '—'} · priority ${num(item.priority, 3)} = category ${num(r.category_weight, 3)} + flags ${num(r.flag_weight, 3)} + uncertainty ${num(r.uncertainty, 3)}`),
        h('div', { class: 'label-grid' }, numbers, charts), flagsBox,
        h('div', { class: 'label-actions', role: 'group', 'aria-label': 'Label this object' },
          KEYS.map(([k, label]) => h('button', { type: 'button', class: 'label-btn', style: { '--c': categoryColor(label) }, title: categoryText(label), onclick: () => submit(label) },
            h('kbd', {}, k), ' ', humanizeCategory(label).toLowerCase()))),
        h('div', { class: 'note-row' }, h('label', { for: 'label-note' }, 'Note'), noteIn,
          h('button', { type: 'button', class: 'btn-ghost', onclick: skip }, h('kbd', {}, 's'), ' skip')),
        h('p', { class: 'muted small' }, 'Shortcuts: 1–9 categories, c confirmed, d candidate, f false positive, s skip, n note.'))));
    // Key numbers and small charts from the run's row.
    let row = null;
    if (item.run_id) {
      try {
        const d = await api(`/api/runs/${enc(item.run_id)}/results/${enc(item.object_id)}`);
        row = Array.isArray(d.rows) ? d.rows[0] : d.row || d;
      } catch { row = null; }
    }
    if (current !== item) return;
    const flags = asList((row && row.flags) || r.flags);
    replace(flagsBox, flags.length ? h('ul', { class: 'flags' }, flags.map((f) => h('li', {}, h('code', {}, f), ' — ', flagText(f)))) : h('p', { class: 'muted' }, 'No flags.'));
    if (!row) { replace(numbers, h('p', { class: 'muted' }, 'Object details unavailable.')); return; }
    const kv = [
      ['Period', row.koi_period, 'd'], ['Radius', row.koi_prad, 'R⊕'], ['Insolation', row.koi_insol, 'S⊕'],
      ['Teq', row.koi_teq, 'K'], ['Depth', row.koi_depth, 'ppm'], ['Duration', row.koi_duration, 'h'],
      ['Duration ratio', row.duration_ratio, ''], ['Star Teff', row.koi_steff, 'K'], ['Star radius', row.koi_srad, 'R☉'],
      ['Score', row.score, ''], ['NASA', row.koi_disposition, ''], ['Anomaly', row.anomaly_score, ''],
    ].filter(([, v]) => v !== undefined);
    replace(numbers, h('dl', {}, kv.map(([k, v, u]) => [h('dt', {}, k), h('dd', {}, typeof v === 'number' ? num(v) : v ?? '—', u && v != null ? h('span', { class: 'unit' }, ` ${u}`) : null)])));
    replace(charts, radiusGauge(row.koi_prad), hzGauge(row.koi_insol, row.koi_steff), ratioGauge(row.duration_ratio));
  }

  async function submit(label) {
    if (busy || !current) return;
    busy = true;
    const item = current;
    try {
      await api('/api/labels', { method: 'POST', body: { object_id: item.object_id, dataset: item.dataset, run_id: item.run_id, label, source: 'human', annotator: getAnnotator(), note: noteIn && noteIn.value.trim() ? noteIn.value.trim() : undefined } });
      done += 1;
      i += 1;
      show();
    } catch (err) {
      toast(err.message, 'error');
    } finally {
      busy = false;
    }
  }
  function skip() { if (!current) return; skipped += 1; i += 1; show(); }

  const onKey = (e) => {
    if (!current || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t === noteIn) { if (e.key === 'Escape') { noteIn.blur(); e.preventDefault(); } return; }
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (document.querySelector('.drawer-backdrop')) return;
    const hit = KEYS.find(([k]) => k === e.key.toLowerCase());
    if (hit) { e.preventDefault(); submit(hit[1]); } else if (e.key === 's') { e.preventDefault(); skip(); } else if (e.key === 'n') { e.preventDefault(); noteIn.focus(); }
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
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
function ratioGauge(v) {
  return gauge('Duration ratio (measured / expected)', 0, 3, false, [[0.5, '0.5'], [1, '1'], [1.8, '1.8']], v, [0.5, 1.8]);
}

// --- review -----------------------------------------------------------------
async function reviewMode(box, getAnnotator) {
  replace(box, h('p', { class: 'muted' }, 'Loading…'));
  let pending = [];
  let disagreements = [];
  try {
    if ((await has('get', '/api/labels/review')) === false) throw Object.assign(new Error('no review route'), { missing: true });
    const r = await api('/api/labels/review', { query: { limit: 200 } });
    pending = items(r && r.pending ? r.pending : []);
    disagreements = items(r && r.disagreements ? r.disagreements : []);
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
  const review = async (labelId, decision, rowEl) => {
    const reviewer = getAnnotator();
    if (!reviewer) { document.getElementById('annotator').focus(); toast('Enter your name first: reviews record their reviewer.', 'error'); return; }
    try {
      await api(`/api/labels/${enc(labelId)}/review`, { method: 'POST', body: { decision, reviewer } });
      rowEl.classList.add('reviewed');
      for (const b of rowEl.querySelectorAll('button')) b.disabled = true;
      rowEl.querySelector('.review-state').textContent = decision === 'accept' ? 'accepted' : 'rejected';
    } catch (err) { toast(err.message, 'error'); }
  };
  const labelAs = async (d, label, rowEl) => {
    const annotator = getAnnotator();
    if (!annotator) { document.getElementById('annotator').focus(); toast('Enter your name first.', 'error'); return; }
    try {
      await api('/api/labels', { method: 'POST', body: { object_id: d.object_id, dataset: d.dataset, run_id: d.run_id, label, source: 'human', annotator, note: 'resolved in review' } });
      rowEl.classList.add('reviewed');
      rowEl.querySelector('.review-state').textContent = `labeled ${label}`;
    } catch (err) { toast(err.message, 'error'); }
  };
  const labelOf = (x) => (x && typeof x === 'object' ? x.label : x) ?? '—';
  replace(box,
    h('section', { class: 'panel', 'aria-labelledby': 'pending-title' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'pending-title' }, `Pending labels (${count(pending.length)})`)),
      h('div', { class: 'panel-body table-wrap' }, pending.length ? h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, ['object', 'label', 'source', 'annotator', 'note', 'when', '', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, pending.map((l) => {
          const tr = h('tr', {},
            h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike mono', onclick: () => openDetail(l.run_id, l.object_id) }, l.object_id)),
            h('td', {}, l.label), h('td', {}, l.source), h('td', {}, l.annotator || '—'), h('td', {}, l.note || ''), h('td', {}, age(l.created_at)),
            h('td', { class: 'review-state muted' }),
            h('td', { class: 'actions' },
              h('button', { type: 'button', class: 'btn-small', onclick: () => review(l.id, 'accept', tr) }, 'Accept'),
              h('button', { type: 'button', class: 'btn-small btn-danger-ghost', onclick: () => review(l.id, 'reject', tr) }, 'Reject')));
          return tr;
        }))) : h('p', { class: 'empty' }, 'Nothing pending.'))),
    h('section', { class: 'panel', 'aria-labelledby': 'dis-title' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'dis-title' }, `Disagreements between human, NASA and heuristic labels (${count(disagreements.length)})`)),
      h('div', { class: 'panel-body table-wrap' }, disagreements.length ? h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, ['object', 'human', 'NASA', 'heuristic', 'model', '', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, disagreements.map((d) => {
          const L = d.labels || {};
          const human = L.human && typeof L.human === 'object' ? L.human : null;
          const tr = h('tr', {},
            h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike mono', onclick: () => openDetail(d.run_id, d.object_id) }, d.object_id)),
            h('td', {}, labelOf(L.human)), h('td', {}, labelOf(L.nasa)), h('td', {}, labelOf(L.heuristic)), h('td', {}, labelOf(L.model)),
            h('td', { class: 'review-state muted' }),
            h('td', { class: 'actions' },
              human && human.id ? [
                h('button', { type: 'button', class: 'btn-small', onclick: () => review(human.id, 'accept', tr) }, 'Accept human'),
                h('button', { type: 'button', class: 'btn-small btn-danger-ghost', onclick: () => review(human.id, 'reject', tr) }, 'Reject human')] : null,
              L.nasa ? h('button', { type: 'button', class: 'btn-small', onclick: () => labelAs(d, labelOf(L.nasa), tr) }, 'Side with NASA') : null,
              L.heuristic ? h('button', { type: 'button', class: 'btn-small', onclick: () => labelAs(d, labelOf(L.heuristic), tr) }, 'Side with heuristic') : null));
          return tr;
        }))) : h('p', { class: 'empty' }, 'No disagreements (or this server does not list them yet).'))),
    statsBox);
  try {
    if ((await has('get', '/api/labels/stats')) === false) throw new Error('no stats');
    const stats = await api('/api/labels/stats');
    replace(statsBox, statsPanel(stats));
  } catch { clear(statsBox); }
  setHashParams({ mode: 'review' });
}

function statsPanel(stats) {
  const tables = [];
  const visit = (name, v) => {
    if (v && typeof v === 'object' && Array.isArray(v.labels) && Array.isArray(v.matrix)) tables.push([name, v]);
    else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) visit(name ? `${name} · ${k}` : k, x);
  };
  visit('', stats);
  if (!tables.length) return h('div');
  return h('section', { class: 'panel', 'aria-labelledby': 'stats-title' },
    h('header', { class: 'panel-head' }, h('h2', { id: 'stats-title' }, 'Agreement between sources')),
    h('div', { class: 'panel-body stat-tables' }, tables.map(([name, t]) => confusion(name, t.labels, t.matrix, t.row_label, t.col_label))));
}

export function confusion(title, labels, matrix, rowLabel = 'actual', colLabel = 'predicted') {
  const max = Math.max(1, ...matrix.flat().map(Number));
  return h('table', { class: 'confusion' },
    h('caption', {}, title),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, `${rowLabel} \\ ${colLabel}`), labels.map((l) => h('th', { scope: 'col' }, humanizeCategory(l))))),
    h('tbody', {}, matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, humanizeCategory(labels[i])),
      row.map((v, j) => h('td', { class: i === j ? 'diag' : '', style: { '--a': (Number(v) / max).toFixed(3) } }, count(v)))))));
}

export { DISPOSITIONS };
