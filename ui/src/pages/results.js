// Results: server-side paged, filtered, sorted table of one run, rows
// coloured by disposition_compare, a detail drawer, and filtered downloads.
import { h, replace, errorBox, id } from '../lib/dom.js';
import { api, enc, qs } from '../lib/api.js';
import { count, value } from '../lib/format.js';
import { asList, COMPARE } from '../lib/meta.js';
import { loadDictionary, tooltip, unit, flagText } from '../lib/dict.js';
import { state, onRunChange, setHashParams, filtersFromParams, filterParams, getFilters, setFilters, shortRunId, runFromParams } from '../lib/state.js';
import { filterBar, hasParameterSets, countNouns } from '../lib/filters.js';
import { openDetail, categoryBadge } from '../lib/drawer.js';
import { columnThresholds } from '../lib/thresholds.js';

const DEFAULT_COLS = ['object_id', 'star_id', 'category', 'score', 'koi_disposition', 'disposition_compare',
  'koi_period', 'koi_prad', 'koi_insol', 'koi_teq', 'koi_steff', 'hz_position', 'p_model', 'anomaly_score', 'model_probability', 'flags'];
const COLS_KEY = 'exohunter.results.columns';
const LIMITS = [25, 50, 100, 250];

export async function render(root, params) {
  // note: through setRun (silent: this page loads below), so the header's
  // picker names the run the page shows; a run that does not exist is
  // refused with a message and the current one kept.
  runFromParams(params);
  // Filters come from the URL, else from the other page that set them
  // (Charts), as Charts does.
  let filters = [...params.keys()].some((k) => k !== 'run' && k !== 'limit') ? filtersFromParams(params) : getFilters();
  setFilters(filters);
  let limit = Number(params.get('limit')) || 50;
  let columns = []; // [{name,type}]
  let visible = loadVisible();
  let cursors = [null];
  let page = 0;
  let lastRows = [];
  // near(column): the run's thresholds of a column, which no shown value may seem to equal.
  let near = () => [];
  let seq = 0;
  let abort = null;

  const bar = filterBar({ filters, numericColumns: [], onChange: (f) => { filters = { ...f, sort: filters.sort, order: filters.order }; setFilters(filters); resetPaging(); load(); } });
  const status = h('p', { class: 'muted table-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'results-status' });
  const tableBox = h('div', { class: 'table-wrap results-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Result pages' });
  const downloads = h('div', { class: 'downloads', role: 'group', 'aria-label': 'Download with current filters' });
  const colChooser = h('details', { class: 'col-chooser' }, h('summary', {}, 'Columns'), h('div', { class: 'col-list' }));

  const legend = h('ul', { class: 'legend', 'aria-label': 'Row colours' },
    Object.entries(COMPARE).map(([k, text]) => h('li', { class: `cmp-key cmp-${k}`, title: text }, h('span', { class: 'cmp-dot', 'aria-hidden': 'true' }), `${k}: ${text}`)));

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Results'), h('p', { class: 'muted', id: 'results-run' })),
    bar,
    h('div', { class: 'toolbar' }, legend, h('div', { class: 'toolbar-right' }, colChooser, downloads)),
    status, tableBox, pager);

  await loadDictionary();

  function loadVisible() {
    try { const v = JSON.parse(localStorage.getItem(COLS_KEY)); if (Array.isArray(v) && v.length) return v; } catch { /* default */ }
    return null;
  }

  function resetPaging() { cursors = [null]; page = 0; }

  function syncHash() {
    setHashParams({ run: state.run, ...filters, limit: limit !== 50 ? limit : '' });
  }

  function shown() {
    const names = columns.map((c) => c.name);
    const base = visible || DEFAULT_COLS;
    const list = base.filter((c) => names.includes(c));
    return list.length ? list : names.slice(0, 12);
  }

  function renderChooser() {
    const box = colChooser.querySelector('.col-list');
    box.textContent = '';
    const cur = new Set(shown());
    for (const c of columns) {
      const cid = id('col');
      box.append(h('label', { for: cid, title: tooltip(c.name) },
        h('input', {
          type: 'checkbox', id: cid, checked: cur.has(c.name), onchange: (e) => {
            const now = new Set(shown());
            e.target.checked ? now.add(c.name) : now.delete(c.name);
            visible = columns.map((x) => x.name).filter((n) => now.has(n));
            try { localStorage.setItem(COLS_KEY, JSON.stringify(visible)); } catch { /* ignore */ }
            renderTable(lastRows);
          },
        }), ' ', c.name));
    }
    box.append(h('button', { type: 'button', class: 'btn-ghost', onclick: () => { visible = null; try { localStorage.removeItem(COLS_KEY); } catch { /* ignore */ } renderChooser(); renderTable(lastRows); } }, 'Default columns'));
  }

  function renderDownloads() {
    const q = filterParams(filters);
    const sort = filters.sort ? { sort: filters.sort, order: filters.order || 'asc' } : {};
    replace(downloads, h('span', { class: 'muted' }, 'Download'),
      ['csv', 'json', 'ndjson', 'parquet'].map((fmt) => h('a', {
        class: 'btn-small', href: state.run ? `/api/runs/${enc(state.run)}/export${qs({ format: fmt, ...q, ...sort })}` : undefined,
        download: '', 'data-testid': `download-${fmt}`, 'aria-disabled': state.run ? undefined : 'true',
        title: `All rows matching the current filters as ${fmt.toUpperCase()}`,
      }, fmt.toUpperCase())));
  }

  function sortBy(col) {
    if (filters.sort === col) filters.order = filters.order === 'desc' ? 'asc' : 'desc';
    else { filters.sort = col; filters.order = 'asc'; }
    setFilters(filters);
    resetPaging();
    load();
  }

  function cell(col, v, row) {
    if (col === 'category') return categoryBadge(v);
    if (col === 'flags') {
      const l = asList(v);
      return l.length ? h('span', { class: 'flag-count', title: l.map((f) => `${f}: ${flagText(f)}`).join('\n') }, `${l.length} · ${l.map((f) => f.replace(/^FLAG_/, '')).join(', ')}`) : '';
    }
    if (col === 'tags') return asList(v).join(', ');
    if (col === 'disposition_compare') return h('span', { class: `cmp cmp-${v}` }, v ?? '—');
    if (col === 'object_id') return h('span', { class: 'mono' }, v ?? '—');
    const src = row[`${col}_source`];
    if (src === 'derived') return h('span', { title: 'derived by ExoHunter' }, value(v, near(col)), h('sup', { class: 'derived-mark', 'aria-label': 'derived' }, 'd'));
    return value(v, near(col));
  }

  // sortable: the API orders numbers, dates, text and booleans, not lists
  // (flags, tags) or nested values.
  function sortable(name) {
    const t = columns.find((c) => c.name === name)?.type || '';
    return !/\[\]$|^STRUCT|^MAP|^UNION/i.test(t);
  }

  function renderTable(rows) {
    lastRows = rows;
    const cols = shown();
    const thead = h('thead', {}, h('tr', {}, cols.map((c) => {
      const sorted = filters.sort === c ? (filters.order === 'desc' ? 'descending' : 'ascending') : 'none';
      const u = unit(c);
      if (!sortable(c)) {
        return h('th', { scope: 'col', title: tooltip(c) }, c, u ? h('span', { class: 'th-unit' }, ` [${u}]`) : null);
      }
      return h('th', { scope: 'col', 'aria-sort': sorted, title: tooltip(c) },
        h('button', { type: 'button', class: 'th-btn', onclick: () => sortBy(c) },
          c, u ? h('span', { class: 'th-unit' }, ` [${u}]`) : null, h('span', { class: 'sr-only' }, ', sort'),
          h('span', { class: 'sort-ind', 'aria-hidden': 'true' }, sorted === 'ascending' ? ' ▲' : sorted === 'descending' ? ' ▼' : '')));
    })));
    const tbody = h('tbody');
    rows.forEach((r, i) => {
      const tr = h('tr', {
        class: `row cmp-row-${r.disposition_compare || 'none'}`, tabindex: '0', 'data-object': r.object_id, 'data-category': r.category, 'data-row': r.row_id,
        'aria-label': `${r.object_id}, ${r.category}. Press Enter for details.`,
        onclick: () => openDetail(state.run, r.object_id, r),
        onkeydown: (e) => {
          if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDetail(state.run, r.object_id, r); }
          else if (e.key === 'ArrowDown' && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
          else if (e.key === 'ArrowUp' && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
        },
      }, cols.map((c) => h('td', typeof r[c] === 'number' ? { class: 'numcell', title: String(r[c]) } : {}, cell(c, r[c], r))));
      tr.dataset.index = i;
      tbody.append(tr);
    });
    replace(tableBox, h('table', { class: 'grid results', 'data-testid': 'results-table', 'aria-rowcount': rows.length },
      h('caption', { class: 'sr-only' }, 'Classified objects; activate a row for all its columns'), thead, tbody));
    if (!rows.length) tableBox.append(h('p', { class: 'empty' }, 'No objects match these filters.'));
  }

  function renderPager(total, next) {
    const from = page * limit + 1;
    const to = page * limit + lastRows.length;
    const limSel = h('select', { 'aria-label': 'Rows per page', onchange: (e) => { limit = Number(e.target.value); resetPaging(); load(); } },
      LIMITS.map((n) => h('option', { value: n, selected: n === limit }, `${n} / page`)));
    replace(pager,
      h('button', { type: 'button', class: 'btn-ghost', disabled: page === 0, onclick: () => { page = 0; load(); } }, '« First'),
      h('button', { type: 'button', class: 'btn-ghost', disabled: page === 0, onclick: () => { page -= 1; load(); }, 'data-testid': 'page-prev' }, '‹ Prev'),
      h('span', { class: 'muted' }, lastRows.length ? `${count(from)}–${count(to)} of ${count(total)}` : `0 of ${count(total)}`),
      h('button', {
        type: 'button', class: 'btn-ghost', disabled: !next, 'data-testid': 'page-next',
        onclick: () => { cursors[page + 1] = next; page += 1; load(); },
      }, 'Next ›'),
      limSel);
  }

  async function load() {
    syncHash();
    renderDownloads();
    const runInfo = root.querySelector('#results-run');
    if (!state.run) {
      runInfo.textContent = '';
      replace(tableBox, h('p', { class: 'empty' }, 'No run selected. ', h('a', { href: '#/run' }, 'Run a dataset'), ' first, or pick one in the header.'));
      replace(pager);
      status.textContent = '';
      return;
    }
    const r = state.runs.find((x) => x.run_id === state.run);
    runInfo.textContent = r ? `${r.dataset} · run ${shortRunId(r)}` : `run ${state.run}`;
    const my = ++seq;
    if (abort) abort.abort();
    abort = new AbortController();
    status.textContent = 'Loading…';
    tableBox.setAttribute('aria-busy', 'true');
    const query = { ...filterParams(filters), limit };
    if (filters.sort) { query.sort = filters.sort; query.order = filters.order || 'asc'; }
    if (cursors[page]) query.cursor = cursors[page];
    else if (page > 0) query.offset = page * limit;
    const sets = hasParameterSets(state.run);
    const thresholds = columnThresholds(state.run);
    let res;
    try {
      res = await api(`/api/runs/${enc(state.run)}/results`, { query, signal: abort.signal });
    } catch (err) {
      if (err.name === 'AbortError' || my !== seq) return;
      tableBox.removeAttribute('aria-busy');
      status.textContent = '';
      replace(tableBox, errorBox(err, 'Could not load results.'));
      replace(pager);
      if (filters.sort) {
        tableBox.append(h('button', { type: 'button', class: 'btn-ghost', onclick: () => { filters.sort = ''; filters.order = ''; setFilters(filters); resetPaging(); load(); } },
          `Stop sorting by ${filters.sort}`));
      }
      return;
    }
    const runNear = await thresholds;
    if (my !== seq) return;
    near = runNear;
    tableBox.removeAttribute('aria-busy');
    const rows = Array.isArray(res.rows) ? res.rows : [];
    if (Array.isArray(res.columns) && res.columns.length) columns = res.columns.map((c) => (typeof c === 'string' ? { name: c } : c));
    else if (rows.length) {
      const known = new Set(columns.map((c) => c.name));
      const fresh = Object.keys(rows[0]).map((k) => ({ name: k, type: typeof rows[0][k] === 'number' ? 'DOUBLE' : undefined }));
      if (!columns.length || fresh.some((c) => !known.has(c.name))) columns = fresh;
    }
    const numeric = columns.filter((c) => /DOUBLE|FLOAT|INT|DECIMAL|REAL|NUMERIC/i.test(c.type || '') || rows.some((r) => typeof r[c.name] === 'number')).map((c) => c.name);
    bar.setColumns(numeric);
    renderChooser();
    renderTable(rows);
    renderPager(res.total ?? rows.length, res.next_cursor || null);
    const total = res.total ?? rows.length;
    // note: in a table with several parameter sets per planet (K2, PS) a row
    // is one set, not one object, unless the default-set switch is on.
    const multi = await sets;
    if (my !== seq) return;
    bar.setParameterSets(multi);
    const [one, many] = countNouns(multi, filters);
    status.textContent = total === 1 ? `1 ${one} matches` : `${count(total)} ${many} match`;
    status.dataset.total = String(res.total ?? rows.length);
  }

  const off = onRunChange(() => { resetPaging(); load(); });
  load();
  return () => { off(); if (abort) abort.abort(); };
}
