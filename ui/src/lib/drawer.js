// drawer.js: the object detail drawer. Shows every column of one object with
// its unit, provenance (<column>_source: catalog, derived or missing) and its
// flags in words. Data: GET /api/runs/{id}/results/{object_id}.
import { h, clear, append } from './dom.js';
import { api, enc } from './api.js';
import { num, exact } from './format.js';
import { unit, tooltip, flagText, categoryText, loadDictionary } from './dict.js';
import { asList, categoryColor, humanizeCategory, COMPARE } from './meta.js';

let current = null;

const KEY_COLS = ['object_id', 'star_id', 'category', 'score', 'koi_disposition', 'disposition_compare', 'anomaly_score'];

export function categoryBadge(c) {
  return h('span', { class: 'badge cat', style: { '--c': categoryColor(c) }, title: categoryText(c) }, humanizeCategory(c) || '—');
}

function provenanceBadge(src) {
  if (!src) return null;
  return h('span', { class: `prov prov-${src}`, title: `Value is ${src === 'catalog' ? 'from the catalog' : src === 'derived' ? 'derived by ExoHunter' : 'missing'}` }, src);
}

/** Normalizes the detail response: {rows:[…]} (documented), {row:{…}} or a bare object. */
function rowsOf(d) {
  if (!d) return [];
  if (Array.isArray(d.rows)) return d.rows;
  if (d.row && typeof d.row === 'object') return [d.row];
  if (d.object && typeof d.object === 'object') return [d.object];
  if (typeof d === 'object' && d.object_id !== undefined) return [d];
  return [];
}

function detailBody(row, filter, provenance = {}) {
  const flags = asList(row.flags);
  const tags = asList(row.tags);
  const wrap = h('div', { class: 'detail' });
  wrap.append(h('div', { class: 'detail-head' },
    categoryBadge(row.category),
    h('span', { class: 'kv' }, 'score ', h('b', {}, num(row.score, 3))),
    h('span', { class: 'kv' }, 'NASA ', h('b', {}, row.koi_disposition ?? '—')),
    row.disposition_compare ? h('span', { class: `cmp cmp-${row.disposition_compare}`, title: COMPARE[row.disposition_compare] || '' }, row.disposition_compare) : null));
  if (tags.length) wrap.append(h('p', { class: 'tags' }, 'Tags: ', tags.map((t) => categoryBadge(t))));
  wrap.append(h('h3', {}, `Flags (${flags.length})`));
  if (flags.length) {
    wrap.append(h('ul', { class: 'flags', 'data-testid': 'detail-flags' }, flags.map((f) => h('li', {}, h('code', {}, f), ' — ', flagText(f)))));
  } else {
    wrap.append(h('p', { class: 'muted' }, 'No flags: every input was present and plausible.'));
  }
  wrap.append(h('h3', {}, 'All columns'));
  const tbody = h('tbody');
  const names = Object.keys(row).filter((k) => !/_source$/.test(k));
  const ordered = [...KEY_COLS.filter((k) => names.includes(k)), ...names.filter((k) => !KEY_COLS.includes(k))];
  for (const k of ordered) {
    if (filter && !k.toLowerCase().includes(filter)) continue;
    const src = row[`${k}_source`] ?? provenance[k];
    tbody.append(h('tr', {},
      h('th', { scope: 'row', title: tooltip(k) }, k),
      h('td', { class: typeof row[k] === 'number' ? 'numcell' : '' }, exact(row[k])),
      h('td', { class: 'unit' }, unit(k)),
      h('td', {}, provenanceBadge(src))));
  }
  wrap.append(h('table', { class: 'kvtable' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'column'), h('th', { scope: 'col' }, 'value'), h('th', { scope: 'col' }, 'unit'), h('th', { scope: 'col' }, 'provenance'))),
    tbody));
  return wrap;
}

export function closeDetail() {
  if (!current) return;
  const { el, returnFocus, onKey } = current;
  document.removeEventListener('keydown', onKey, true);
  el.remove();
  current = null;
  if (returnFocus && returnFocus.isConnected) returnFocus.focus();
}

/** Opens the drawer for an object. `row` (from the table or chart) renders at once; the detail call fills in the rest. */
export async function openDetail(runId, objectId, row) {
  closeDetail();
  await loadDictionary();
  const titleId = 'drawer-title';
  // The body scrolls on its own: focusable (tabindex 0) so keyboard users can
  // scroll it with the arrow keys (WCAG 2.1.1, axe scrollable-region-focusable).
  const body = h('div', { class: 'drawer-body', tabindex: '0', role: 'region', 'aria-label': `All columns of ${objectId}` });
  const search = h('input', { type: 'search', placeholder: 'filter columns', 'aria-label': 'Filter columns' });
  const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close detail', onclick: closeDetail }, '×');
  const el = h('div', { class: 'drawer-backdrop', onclick: (e) => { if (e.target === el) closeDetail(); } },
    h('aside', { class: 'drawer', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'data-testid': 'detail-drawer' },
      h('header', { class: 'drawer-head' }, h('h2', { id: titleId }, String(objectId)), search, closeBtn),
      body));
  const onKey = (e) => {
    if (e.key === 'Escape') { e.preventDefault(); closeDetail(); return; }
    if (e.key === 'Tab') { // keep focus inside the dialog
      const f = [...el.querySelectorAll('button, input, [href], [tabindex]:not([tabindex="-1"])')].filter((x) => !x.disabled);
      if (!f.length) return;
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  };
  current = { el, returnFocus: document.activeElement, onKey };
  document.addEventListener('keydown', onKey, true);
  document.body.append(el);
  closeBtn.focus();

  let rows = row ? [row] : [];
  const clickedId = row && row.row_id != null ? row.row_id : null;
  let provenance = {};
  const render = () => {
    clear(body);
    const filter = search.value.trim().toLowerCase();
    if (!rows.length) { body.append(h('p', { class: 'muted' }, 'Loading…')); return; }
    if (rows.length > 1) body.append(h('p', { class: 'muted' }, `${rows.length} parameter sets for this object; the default set first${clickedId != null ? ', the row you opened marked' : ''}.`));
    let mark = null;
    rows.forEach((r, i) => {
      // note: a results row is one parameter set; the drawer lists them all
      // and marks the one the user opened (and scrolls to it).
      const opened = rows.length > 1 && clickedId != null && r.row_id === clickedId;
      if (rows.length > 1) {
        const head = h('h3', { 'data-opened': opened ? 'true' : undefined }, `Parameter set ${i + 1}${r.is_default ? ' (default)' : ''}${opened ? ' · the row you opened' : ''}`);
        if (opened) mark = head;
        body.append(head);
      }
      body.append(detailBody(r, filter, i === 0 ? provenance : {}));
    });
    if (mark && !filter) mark.scrollIntoView({ block: 'start' });
  };
  search.oninput = render;
  render();
  if (runId) {
    try {
      const d = await api(`/api/runs/${enc(runId)}/results/${enc(objectId)}`);
      const got = rowsOf(d);
      if (got.length && current && current.el === el) {
        got.sort((a, b) => (b.is_default === true) - (a.is_default === true));
        rows = got;
        provenance = d.provenance && typeof d.provenance === 'object' ? d.provenance : {};
        render();
      }
    } catch (err) {
      if (!rows.length && current && current.el === el) append(clear(body), h('div', { class: 'error-box', role: 'alert' }, err.message));
    }
  }
}
