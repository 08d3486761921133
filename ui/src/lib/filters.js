// filters.js: the result filter bar shared by Results and Charts. Every
// control maps one-to-one onto a query parameter of
// GET /api/runs/{id}/results (see ui/README.md).
import { h, select, debounce, id } from './dom.js';
import { CATEGORIES, DISPOSITIONS, humanizeCategory } from './meta.js';
import { knownFlags, unit } from './dict.js';
import { api, enc } from './api.js';

// DEFAULT_KEY keeps one parameter set per planet in a multi-parameter-set
// table (K2's k2pandc, the Planetary Systems table): a run keeps every row,
// and is_default marks the archive's default set. It is a switch, not a
// range row, although the API reads it as a column filter.
export const DEFAULT_KEY = 'is_default__eq';
const isRangeKey = (k) => k !== DEFAULT_KEY && /__(gte|lte|gt|lt|eq|ne)$/.test(k);

const OPS = [['gte', '≥'], ['lte', '≤'], ['gt', '>'], ['lt', '<'], ['eq', '='], ['ne', '≠']];

/**
 * filterBar({filters, numericColumns, onChange}) -> element with .setColumns(cols).
 * onChange receives a fresh filter object (sort/order are carried through).
 */
export function filterBar({ filters, numericColumns = [], onChange }) {
  const f = { ...filters };
  const emit = () => onChange({ ...f });
  const emitSoon = debounce(emit, 350);

  const set = (key, v, soon = false) => {
    if (v === '' || v === null || v === undefined) delete f[key];
    else f[key] = v;
    soon ? emitSoon() : emit();
  };

  const cat = select([['', 'any'], ...CATEGORIES.map((c) => [c, humanizeCategory(c)])], f.category,
    { name: 'category', 'data-testid': 'filter-category', onchange: (e) => set('category', e.target.value) });
  const tag = select([['', 'any'], ...CATEGORIES.map((c) => [c, humanizeCategory(c)])], f.tag,
    { name: 'tag', onchange: (e) => set('tag', e.target.value) });
  const disp = select([['', 'any'], ...DISPOSITIONS.map((d) => [d, d.toLowerCase()])], f.disposition,
    { name: 'disposition', onchange: (e) => set('disposition', e.target.value) });
  const flagList = id('flags');
  const flag = h('input', { type: 'text', name: 'flag', value: f.flag || '', list: flagList, placeholder: 'FLAG_…', size: 16, oninput: (e) => set('flag', e.target.value.trim(), true) });
  const flagData = h('datalist', { id: flagList });
  const fillFlags = () => { flagData.textContent = ''; for (const x of knownFlags()) flagData.append(h('option', { value: x })); };
  fillFlags();
  // note: a score is in [0, 1]; a bound outside says so at the field
  // rather than quietly matching nothing.
  const score = (key) => (e) => {
    const v = e.target.value;
    const bad = v !== '' && !(Number(v) >= 0 && Number(v) <= 1);
    e.target.setCustomValidity(bad ? 'A score is between 0 and 1.' : '');
    if (bad) { e.target.reportValidity(); return; }
    set(key, v, true);
  };
  const minS = h('input', { type: 'number', name: 'min_score', min: 0, max: 1, step: 'any', value: f.min_score ?? '', inputmode: 'decimal', oninput: score('min_score') });
  const maxS = h('input', { type: 'number', name: 'max_score', min: 0, max: 1, step: 'any', value: f.max_score ?? '', inputmode: 'decimal', oninput: score('max_score') });
  const q = h('input', { type: 'search', name: 'q', value: f.q || '', placeholder: 'Kepler-22, TOI-700', size: 18, title: 'An object id, star id or planet name: typed whole (K00087, KOI-87, TOI-700, Kepler-22) it shows just that object or system; otherwise every object whose ids contain the text', 'data-testid': 'filter-q', oninput: (e) => set('q', e.target.value.trim(), true) });

  const lab = (text, control) => {
    control.id = control.id || id('flt');
    return h('div', { class: 'fctl' }, h('label', { for: control.id }, text), control);
  };

  // Range filters on any numeric column: <col>__gte=… etc.
  const ranges = h('div', { class: 'ranges' });
  let cols = numericColumns;
  // colOptions lists the numeric columns, plus a row's own column while the
  // run's list is not known yet (a filter from the URL must not show blank).
  const colOptions = (keep) => {
    const names = keep && !cols.includes(keep) ? [keep, ...cols] : cols;
    return [['', 'column…'], ...names.map((c) => [c, c + (unit(c) ? ` [${unit(c)}]` : '')])];
  };
  const rowKey = (row) => (row.colSel.value && row.valIn.value !== '' ? `${row.colSel.value}__${row.opSel.value}` : '');
  // syncRanges rebuilds the range filters from the rows on screen, so what
  // is applied is always what is shown. A row that takes another row's
  // column and comparison replaces it (one value per key).
  const syncRanges = (changed) => {
    for (const k of Object.keys(f)) if (isRangeKey(k)) delete f[k];
    const rows = [...ranges.querySelectorAll('.range-row')];
    const mine = changed && rowKey(changed);
    for (const row of rows) {
      if (mine && row !== changed && rowKey(row) === mine) { row.remove(); continue; }
      const k = rowKey(row);
      if (k) f[k] = row.valIn.value;
    }
  };
  const rangeRow = (col = '', op = 'gte', val = '') => {
    const colSel = select(colOptions(col), col, { 'aria-label': 'Range filter column' });
    const opSel = select(OPS, op, { 'aria-label': 'Comparison' });
    const valIn = h('input', { type: 'number', step: 'any', value: val, 'aria-label': 'Value', size: 8 });
    const update = (soon) => {
      syncRanges(row);
      soon ? emitSoon() : emit();
    };
    colSel.onchange = () => update(false);
    opSel.onchange = () => update(false);
    valIn.oninput = () => update(true);
    const rm = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove range filter', onclick: () => { row.remove(); syncRanges(); emit(); } }, '×');
    const row = h('div', { class: 'range-row' }, colSel, opSel, valIn, rm);
    Object.assign(row, { colSel, opSel, valIn });
    return row;
  };
  for (const [k, v] of Object.entries(f)) {
    const m = isRangeKey(k) && /^(.*)__(gte|lte|gt|lt|eq|ne)$/.exec(k);
    if (m) ranges.append(rangeRow(m[1], m[2], v));
  }
  const addRange = h('button', { type: 'button', class: 'btn-ghost', onclick: () => { const r = rangeRow(); ranges.append(r); r.colSel.focus(); } }, '+ range filter');

  const defOnly = h('input', { type: 'checkbox', name: 'is_default', 'data-testid': 'filter-default', checked: f[DEFAULT_KEY] === 'true',
    onchange: (e) => set(DEFAULT_KEY, e.target.checked ? 'true' : '') });
  const defCtl = h('div', { class: 'fctl', hidden: f[DEFAULT_KEY] !== 'true', title: 'This table holds several parameter sets per planet (one row each); keep the archive\'s default set only, one row per planet' },
    h('label', {}, defOnly, ' default parameter sets only'));

  const clearBtn = h('button', {
    type: 'button', class: 'btn-ghost', onclick: () => {
      for (const k of Object.keys(f)) if (k !== 'sort' && k !== 'order') delete f[k];
      [cat, tag, disp].forEach((s) => { s.value = ''; });
      [flag, minS, maxS, q].forEach((i) => { i.value = ''; });
      defOnly.checked = false;
      ranges.textContent = '';
      emit();
    },
  }, 'Clear filters');

  const el = h('form', { class: 'filterbar', role: 'search', 'aria-label': 'Result filters', onsubmit: (e) => { e.preventDefault(); emit(); } },
    lab('Search id', q), lab('Category', cat), lab('Tag', tag), lab('Disposition', disp), lab('Flag', flag), flagData,
    lab('Score ≥', minS), lab('Score ≤', maxS), defCtl,
    h('div', { class: 'fctl fctl-actions' }, addRange, clearBtn),
    ranges);
  // setParameterSets shows the switch when the run has rows that are not
  // the default set (a table with several sets per planet).
  el.setParameterSets = (multi) => { defCtl.hidden = !multi && !defOnly.checked; };
  el.setColumns = (c) => {
    cols = c;
    fillFlags();
    for (const row of ranges.querySelectorAll('.range-row')) {
      const sel = row.colSel;
      const v = sel.value;
      sel.textContent = '';
      for (const o of colOptions(v)) sel.append(new Option(o[1], o[0], false, o[0] === v));
    }
  };
  return el;
}

export function describeFilters(f) {
  const parts = [];
  for (const [k, v] of Object.entries(f)) {
    if (k === 'sort' || k === 'order' || v === '' || v == null) continue;
    const m = /^(.*)__(gte|lte|gt|lt|eq|ne)$/.exec(k);
    if (k === DEFAULT_KEY) parts.push('default parameter sets only');
    else if (m) parts.push(`${m[1]} ${{ gte: '≥', lte: '≤', gt: '>', lt: '<', eq: '=', ne: '≠' }[m[2]]} ${v}`);
    else if (k === 'min_score') parts.push(`score ≥ ${v}`);
    else if (k === 'max_score') parts.push(`score ≤ ${v}`);
    else if (k === 'q') parts.push(`id contains "${v}"`);
    else parts.push(`${k} = ${v}`);
  }
  return parts.length ? parts.join(' · ') : 'no filters';
}

/**
 * countNouns(multi, filters) -> [one, many]: what a count counts. In a run
 * with several parameter sets per planet (multi, see hasParameterSets) a
 * row is one set, not one object, unless the default-set switch is on.
 */
export function countNouns(multi, filters) {
  return multi && filters[DEFAULT_KEY] !== 'true' ? ['row (parameter set)', 'rows (parameter sets)'] : ['object', 'objects'];
}

const setsOf = new Map();
/** Whether a run holds rows that are not their planet's default parameter set (asked once per run). */
export function hasParameterSets(runId) {
  if (!setsOf.has(runId)) {
    setsOf.set(runId, api(`/api/runs/${enc(runId)}/results`, { query: { [DEFAULT_KEY]: 'false', limit: 1, columns: 'object_id' } })
      .then((r) => (r.total ?? (r.rows || []).length) > 0)
      .catch(() => { setsOf.delete(runId); return false; }));
  }
  return setsOf.get(runId);
}
