// SQL console: CodeMirror 6 editor (SQL highlighting, schema completion,
// Ctrl/Cmd+Enter), results grid, errors shown at their position, cancel via
// DELETE /api/query/{query_id}, export, schema browser and stored queries.
import { EditorView, basicSetup } from 'codemirror';
import { keymap, Decoration } from '@codemirror/view';
import { Prec, Compartment, StateEffect, StateField, EditorSelection } from '@codemirror/state';
import { sql as sqlLang, PostgreSQL } from '@codemirror/lang-sql';
import { darkEditor, lightEditor } from '../lib/cmtheme.js';
import { h, replace, clear, errorBox, toast, id } from '../lib/dom.js';
import { api, items, enc, qs, ApiError } from '../lib/api.js';
import { count, exact, ms } from '../lib/format.js';
import { state } from '../lib/state.js';
import { has } from '../lib/capabilities.js';
import { prettyUnit } from '../lib/dict.js';

const SQL_KEY = 'exohunter.console.sql';
const HISTORY_KEY = 'exohunter.console.history';

// --- error marker in the editor -------------------------------------------
const setError = StateEffect.define();
const errorField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(setError)) {
        if (e.value === null) deco = Decoration.none;
        else {
          const { from, to } = e.value;
          const line = tr.state.doc.lineAt(from);
          deco = Decoration.set([
            Decoration.line({ class: 'cm-error-line' }).range(line.from),
            Decoration.mark({ class: 'cm-error-mark' }).range(from, Math.max(to, from + 1)),
          ].sort((a, b) => a.from - b.from), true);
        }
      }
    }
    if (tr.docChanged && !tr.effects.some((e) => e.is(setError))) deco = Decoration.none;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

function newQueryId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `q-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Where in `text` the server says the error is: details[].position (0-based
 * offset), or details[].line/column (1-based), or DuckDB's "LINE n:" echo with
 * a caret, located back in the submitted text (the server may have wrapped it).
 */
export function errorPosition(err, text) {
  const lineCol = (line, column) => {
    const lines = text.split('\n');
    if (line < 1 || line > lines.length) return null;
    let pos = 0;
    for (let i = 0; i < line - 1; i++) pos += lines[i].length + 1;
    return pos + Math.max(0, Math.min(lines[line - 1].length, (column || 1) - 1));
  };
  for (const d of err.details || []) {
    if (d && typeof d === 'object' && !Number.isInteger(d.line) && typeof d.message === 'string') {
      const lm = /line (\d+), column (\d+)/i.exec(d.message);
      if (lm) { const p = lineCol(Number(lm[1]), Number(lm[2])); if (p !== null) return p; }
    }
    if (d && typeof d === 'object') {
      if (Number.isInteger(d.position) && d.position >= 0 && d.position <= text.length) return d.position;
      if (Number.isInteger(d.line)) {
        const lines = text.split('\n');
        if (d.line >= 1 && d.line <= lines.length) {
          let pos = 0;
          for (let i = 0; i < d.line - 1; i++) pos += lines[i].length + 1;
          return pos + Math.max(0, Math.min(lines[d.line - 1].length, (d.column || 1) - 1));
        }
      }
    }
  }
  const tail = /\(line (\d+), column (\d+)\)\s*$/.exec(err.message || '');
  if (tail) { const p = lineCol(Number(tail[1]), Number(tail[2])); if (p !== null) return p; }
  const m = /LINE (\d+): ([^\n]*)\n( *)\^/.exec(err.message || '');
  if (m) {
    const prefix = `LINE ${m[1]}: `.length;
    const col = m[3].length - prefix;
    const echoed = m[2];
    for (let len = Math.min(40, echoed.length - col); len >= 3; len--) {
      const probe = echoed.slice(col, col + len);
      const at = text.indexOf(probe);
      if (at >= 0 && text.indexOf(probe, at + 1) < 0) return at;
    }
    const lines = text.split('\n');
    const ln = Number(m[1]);
    if (ln >= 1 && ln <= lines.length && col >= 0 && col <= lines[ln - 1].length && lines[ln - 1] === echoed) {
      let pos = 0;
      for (let i = 0; i < ln - 1; i++) pos += lines[i].length + 1;
      return pos + col;
    }
  }
  return null;
}

export async function render(root, params) {
  let running = null; // {queryId, abort}
  let stored = null; // the loaded stored query: {q, sql, inputs: [[param, input]]}
  let lastResult = null;
  let lastSql = '';
  let schemaNs = {};

  const themeComp = new Compartment();
  const langComp = new Compartment();
  const isDark = () => document.documentElement.dataset.theme !== 'light';

  const editorBox = h('div', { class: 'editor', 'data-testid': 'sql-editor' });
  const runBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'sql-run', title: 'Run (Ctrl+Enter / ⌘+Enter)' }, 'Run ', h('kbd', {}, navigator.platform && /Mac/.test(navigator.platform) ? '⌘↵' : 'Ctrl+↵'));
  const cancelBtn = h('button', { type: 'button', class: 'btn-ghost', disabled: true, 'data-testid': 'sql-cancel' }, 'Cancel');
  const limitIn = h('input', { type: 'number', min: 1, max: 10000, value: 1000, id: 'sql-limit', size: 6, title: 'rows shown, at most 10000; export for the full result' });
  const timeoutIn = h('input', { type: 'number', min: 100, max: 60000, step: 100, value: 5000, id: 'sql-timeout', size: 6, title: 'at most 60000 ms' });
  const exportBox = h('div', { class: 'downloads', role: 'group', 'aria-label': 'Export the result' });
  const statusLine = h('p', { class: 'muted table-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'sql-status' });
  const errorBoxEl = h('div', { 'data-testid': 'sql-error-box' });
  const gridBox = h('div', { class: 'table-wrap sql-grid', 'data-testid': 'sql-results' });
  const schemaBox = h('div', { class: 'schema-tree' });
  const queriesBox = h('div', { class: 'stored-queries' });
  const paramBox = h('div', { class: 'param-box' });
  const schemaFilter = h('input', { type: 'search', placeholder: 'filter tables and columns', 'aria-label': 'Filter schema' });

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'SQL console'),
      h('p', { class: 'muted' }, 'Read-only SQL over every dataset view, run result, label and feature set (DuckDB dialect).')),
    h('div', { class: 'console-layout' },
      h('aside', { class: 'panel console-side', 'aria-label': 'Schema and stored queries' },
        h('details', { open: true }, h('summary', { class: 'side-h' }, 'Stored queries'), queriesBox),
        h('details', { open: true }, h('summary', { class: 'side-h' }, 'Schema'), schemaFilter, schemaBox)),
      h('section', { class: 'console-main', 'aria-label': 'Query' },
        h('div', { class: 'panel' }, editorBox,
          h('div', { class: 'toolbar console-toolbar' },
            h('div', { class: 'actions' }, runBtn, cancelBtn,
              h('label', { for: 'sql-limit', class: 'inline-label' }, 'row cap'), limitIn,
              h('label', { for: 'sql-timeout', class: 'inline-label' }, 'timeout ms'), timeoutIn),
            exportBox),
          paramBox),
        errorBoxEl, statusLine, gridBox)));

  let initial = params.get('sql');
  if (!initial) { try { initial = localStorage.getItem(SQL_KEY); } catch { initial = null; } }
  if (!initial) {
    initial = state.run
      ? `-- Objects per category in the current run\nSELECT category, count(*) AS n, round(avg(score), 3) AS mean_score\nFROM runs.results\nWHERE run_id = '${state.run.replace(/'/g, "''")}'\nGROUP BY category\nORDER BY n DESC`
      : '-- The tables and views you can query\nSELECT schema_name, table_name, kind, description\nFROM catalog.tables\nORDER BY 1, 2';
  }

  const view = new EditorView({
    doc: initial,
    parent: editorBox,
    extensions: [
      Prec.highest(keymap.of([
        { key: 'Mod-Enter', run: () => { run(); return true; } },
        { key: 'Shift-Enter', run: () => { run(); return true; } },
      ])),
      basicSetup,
      langComp.of(sqlLang({ dialect: PostgreSQL, upperCaseKeywords: true })),
      themeComp.of(isDark() ? darkEditor : lightEditor),
      errorField,
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ 'aria-label': 'SQL query editor. Ctrl+Enter runs the query.' }),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        const text = u.state.doc.toString();
        try { localStorage.setItem(SQL_KEY, text); } catch { /* ignore */ }
        if (stored && text !== stored.sql) { stored = null; clear(paramBox); }
      }),
    ],
  });
  const onTheme = () => view.dispatch({ effects: themeComp.reconfigure(isDark() ? darkEditor : lightEditor) });
  window.addEventListener('themechange', onTheme);

  function insert(text) {
    const { from, to } = view.state.selection.main;
    view.dispatch({ changes: { from, to, insert: text }, selection: EditorSelection.cursor(from + text.length) });
    view.focus();
  }
  function setDoc(text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    view.focus();
  }

  function renderExports() {
    const s = lastSql;
    replace(exportBox, h('span', { class: 'muted' }, 'Export'),
      ['csv', 'ndjson', 'parquet'].map((fmt) => h('a', {
        class: 'btn-small', download: '', href: s ? `/api/query${qs({ sql: s, format: fmt })}` : undefined, 'aria-disabled': s ? undefined : 'true',
        title: `The full result (up to the export row cap) as ${fmt.toUpperCase()}`,
      }, fmt.toUpperCase())),
      h('button', {
        type: 'button', class: 'btn-small', disabled: !lastResult, title: 'Only the rows shown (up to the row cap), as JSON; CSV, NDJSON and Parquet export the full result', onclick: () => {
          const blob = new Blob([JSON.stringify(lastResult, null, 1)], { type: 'application/json' });
          const a = h('a', { href: URL.createObjectURL(blob), download: 'query.json' });
          document.body.append(a); a.click(); a.remove();
          setTimeout(() => URL.revokeObjectURL(a.href), 1000);
        },
      }, 'JSON (rows shown)'),
      h('button', {
        type: 'button', class: 'btn-small', disabled: !s, title: 'Copy a link that opens this query in the console (its JSON from the API: GET /api/query?sql=…)',
        onclick: async () => {
          const url = `${location.origin}${location.pathname}#/console${qs({ sql: s })}`;
          try { await navigator.clipboard.writeText(url); toast('Link to this query copied'); } catch { prompt('Link to this query', url); }
        },
      }, 'Link'));
  }
  renderExports();

  function showError(err, text) {
    const pos = errorPosition(err, text);
    let where = null;
    if (pos !== null) {
      const line = view.state.doc.lineAt(Math.min(pos, view.state.doc.length));
      const col = pos - line.from + 1;
      where = `line ${line.number}, column ${col}`;
      let to = pos;
      while (to < line.to && /[\w.$"]/.test(view.state.doc.sliceString(to, to + 1))) to++;
      view.dispatch({ effects: [setError.of({ from: pos, to: Math.max(to, pos + 1) > line.to ? line.to : Math.max(to, pos + 1) })], selection: EditorSelection.cursor(pos), scrollIntoView: true });
    }
    const msg = String(err.message || err).replace(/\n\s*LINE \d+:[\s\S]*$/, '').trim();
    replace(errorBoxEl, h('div', { class: 'error-box sql-error', role: 'alert', 'data-testid': 'sql-error' },
      h('strong', {}, err.status === 504 ? 'Timed out' : err.status === 429 ? 'Console busy' : err.code === 'canceled' || err.code === 'cancelled' ? 'Cancelled' : 'Query failed'),
      where ? h('span', { class: 'err-pos', 'data-testid': 'sql-error-position' }, ` at ${where}`) : null,
      h('pre', { class: 'err-msg' }, msg),
      err.code && err.code !== 'error' ? h('small', { class: 'muted' }, `code: ${err.code}`) : null));
  }

  function renderGrid(res) {
    const cols = Array.isArray(res.columns) ? res.columns : [];
    const rows = Array.isArray(res.rows) ? res.rows : [];
    const tbody = h('tbody');
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const cells = Array.isArray(r) ? r : cols.map((c) => r[c.name]);
      frag.append(h('tr', {}, cells.map((v) => h('td', { class: typeof v === 'number' ? 'numcell' : v === null ? 'nullcell' : '' }, v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : exact(v)))));
    }
    tbody.append(frag);
    replace(gridBox, h('table', { class: 'grid compact', 'data-testid': 'sql-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', title: c.type || '' }, c.name, h('span', { class: 'th-unit' }, ` ${c.type ? c.type.toLowerCase() : ''}`))))),
      tbody));
  }

  async function execute(promiseFactory, text, { exportable = true } = {}) {
    if (running) return;
    clear(errorBoxEl);
    view.dispatch({ effects: setError.of(null) });
    const queryId = newQueryId();
    const abort = new AbortController();
    running = { queryId, abort, canceled: false };
    runBtn.disabled = true;
    cancelBtn.disabled = false;
    statusLine.textContent = 'Running…';
    gridBox.setAttribute('aria-busy', 'true');
    const t0 = performance.now();
    try {
      const res = await promiseFactory(queryId, abort.signal);
      lastResult = res;
      lastSql = exportable ? text : ''; // a stored query's text has $parameters: only its shown rows export (JSON)
      renderGrid(res);
      const n = (res.rows || []).length;
      statusLine.textContent = `${count(n)} row${n === 1 ? '' : 's'}${res.truncated ? ` (truncated${res.truncated_by ? ` by the ${res.truncated_by} cap` : ' at the row or byte cap'}; export for the full result)` : ''}${Array.isArray(res.truncated_values) && res.truncated_values.length ? ` · ${count(res.truncated_values.length)} long values shortened` : ''} · ${ms(res.elapsed_ms ?? performance.now() - t0)}`;
      statusLine.dataset.rows = String(n);
      remember(text);
    } catch (err) {
      if (running && running.canceled) showError(new ApiError(0, 'canceled', 'The query was cancelled.'), text);
      else if (err.name === 'AbortError') showError(new ApiError(0, 'canceled', 'The query was cancelled.'), text);
      else showError(err, text);
      statusLine.textContent = '';
      clear(gridBox);
      lastResult = null;
      lastSql = '';
    } finally {
      gridBox.removeAttribute('aria-busy');
      running = null;
      runBtn.disabled = false;
      cancelBtn.disabled = true;
      renderExports();
    }
  }

  function run() {
    const sel = view.state.selection.main;
    const text = sel.empty ? view.state.doc.toString() : view.state.sliceDoc(sel.from, sel.to);
    if (!text.trim()) return;
    if (stored && sel.empty && text === stored.sql) { runStored(); return; }
    execute((queryId, signal) => api('/api/query', {
      method: 'POST', signal,
      body: { sql: text, limit: Number(limitIn.value) || 1000, timeout_ms: Number(timeoutIn.value) || 5000, query_id: queryId },
    }), text);
  }
  runBtn.onclick = run;
  cancelBtn.onclick = async () => {
    if (!running) return;
    running.canceled = true;
    const { queryId, abort } = running;
    statusLine.textContent = 'Cancelling…';
    try {
      await api(`/api/query/${enc(queryId)}`, { method: 'DELETE' });
    } catch (err) {
      if (!err.missing) toast(`Cancel: ${err.message}`, 'error');
    }
    setTimeout(() => abort.abort(), 1500); // stop waiting if the server does not answer the cancelled query promptly
  };

  function remember(text) {
    try {
      const hist = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]').filter((x) => x !== text);
      hist.unshift(text);
      localStorage.setItem(HISTORY_KEY, JSON.stringify(hist.slice(0, 20)));
    } catch { /* ignore */ }
  }

  // --- stored queries ---------------------------------------------------------
  // One click loads a stored query into the editor and runs it with its
  // defaults through GET /api/queries/{name} (parameters bound by the server).
  // While the editor still holds that text, Run (Ctrl+Enter) runs it the same
  // way with the values of the parameter form; once edited it is plain SQL.
  let datasetNames = null;
  async function datasets() {
    if (!datasetNames) datasetNames = api('/api/datasets').then((d) => items(d, 'datasets').map((x) => x.name)).catch(() => []);
    return datasetNames;
  }

  async function loadQueries() {
    replace(queriesBox, h('p', { class: 'muted small' }, 'Loading…'));
    let list;
    if ((await has('get', '/api/queries')) === false) { replace(queriesBox, h('p', { class: 'muted small' }, 'No stored queries on this server yet.')); return; }
    try {
      list = items(await api('/api/queries'), 'queries');
    } catch (err) {
      replace(queriesBox, h('p', { class: 'muted small' }, err.missing ? 'No stored queries on this server.' : err.message));
      return;
    }
    if (!list.length) { replace(queriesBox, h('p', { class: 'muted small' }, 'No stored queries.')); return; }
    replace(queriesBox, h('ul', { class: 'query-list', 'data-testid': 'stored-queries' }, list.map((q) => h('li', {},
      h('button', { type: 'button', class: 'linklike', 'data-query': q.name, 'aria-describedby': `sq-${q.name}`, onclick: () => loadStored(q) }, q.title || q.name),
      q.description ? h('small', { class: 'muted clamp', id: `sq-${q.name}`, title: q.description }, q.description) : null))));
  }

  async function paramInput(p) {
    const iid = id('qp');
    const type = String(p.type || 'string').toLowerCase();
    const def = p.default ?? '';
    if (Array.isArray(p.values) && p.values.length) {
      return h('select', { id: iid }, p.values.map((v) => h('option', { value: String(v), selected: String(v) === String(def) }, String(v))));
    }
    if (type === 'boolean') return h('select', { id: iid }, ['false', 'true'].map((v) => h('option', { value: v, selected: String(def) === v }, v)));
    if (type === 'dataset') {
      const names = await datasets();
      return h('select', { id: iid }, h('option', { value: '', selected: !def }, 'every dataset'), names.map((n) => h('option', { value: n, selected: n === def }, n)));
    }
    if ((type === 'run' || (p.name === 'run' && type === 'string')) && state.runs.length) {
      return h('select', { id: iid }, h('option', { value: '', selected: !def }, 'latest of each dataset'),
        state.runs.map((r) => h('option', { value: r.run_id, selected: r.run_id === def }, r.run_id)));
    }
    if (type === 'number' || type === 'integer' || type === 'double') {
      return h('input', { type: 'number', id: iid, value: def, step: type === 'integer' ? 1 : 'any', min: p.min ?? undefined, max: p.max ?? undefined, size: 7 });
    }
    return h('input', { type: 'text', id: iid, value: def, size: 14, placeholder: def === '' ? '(any)' : undefined });
  }

  function runStored() {
    if (!stored) return;
    const { q, inputs } = stored;
    const query = {};
    for (const [p, inp] of inputs) query[p.name] = inp.value;
    execute((queryId, signal) => api(`/api/queries/${enc(q.name)}`, { query: { ...query, limit: Number(limitIn.value) || 1000, timeout_ms: Number(timeoutIn.value) || undefined, query_id: queryId }, signal }), stored.sql, { exportable: false });
  }

  async function loadStored(q) {
    const sql = q.sql || `-- stored query ${q.name}`;
    setDoc(sql);
    const ps = Array.isArray(q.params) ? q.params : Array.isArray(q.parameters) ? q.parameters : [];
    const inputs = [];
    for (const p of ps) inputs.push([p, await paramInput(p)]);
    stored = { q, sql, inputs };
    replace(paramBox, h('form', {
      class: 'param-form', 'data-testid': 'stored-query-form', onsubmit: (e) => { e.preventDefault(); runStored(); },
    },
    h('div', { class: 'param-head' }, h('strong', {}, q.title || q.name), ' ', h('code', { class: 'muted' }, q.name),
      q.description ? h('p', { class: 'muted small' }, q.description) : null),
    inputs.map(([p, inp]) => h('span', { class: 'fctl' }, h('label', { for: inp.id }, p.name), inp, p.description ? h('small', { class: 'hint' }, p.description) : null)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Run stored query'),
      h('small', { class: 'muted' }, 'Parameters are bound by the server. Editing the text above turns it into plain SQL.'))));
    runStored();
  }

  // --- schema browser ---------------------------------------------------------
  let tables = [];
  function renderSchema() {
    const f = schemaFilter.value.trim().toLowerCase();
    const bySchema = new Map();
    for (const t of tables) {
      const cols = (t.columns || []).filter((c) => !f || `${t.schema}.${t.name}`.toLowerCase().includes(f) || c.name.toLowerCase().includes(f));
      if (f && !cols.length && !`${t.schema}.${t.name}`.toLowerCase().includes(f)) continue;
      if (!bySchema.has(t.schema)) bySchema.set(t.schema, []);
      bySchema.get(t.schema).push([t, f ? cols : t.columns || []]);
    }
    if (!bySchema.size) { replace(schemaBox, h('p', { class: 'muted small' }, tables.length ? 'Nothing matches.' : 'No tables yet.')); return; }
    const colItem = (c) => {
      const u = prettyUnit(c.unit);
      return h('li', { title: [c.description, u ? `unit: ${u}` : ''].filter(Boolean).join('\n') },
        h('button', { type: 'button', class: 'linklike mono', onclick: () => insert(c.name) }, c.name),
        h('span', { class: 'muted small' }, ` ${String(c.type || '').toLowerCase()}${u ? ` · ${u}` : ''}`));
    };
    const tableItem = (t, cols) => {
      const full = `${t.schema ? `${t.schema}.` : ''}${t.name}`;
      const kind = t.kind ? h('span', { class: 'muted small' }, ` ${String(t.kind).toLowerCase()}`) : null;
      return h('li', {}, h('details', { open: !!f && cols.length < 30 },
        h('summary', { title: t.description || '' }, h('span', { class: 'mono' }, t.name), kind),
        h('button', { type: 'button', class: 'btn-small insert-btn', onclick: () => insert(full) }, `Insert ${full}`),
        t.description ? h('p', { class: 'muted small' }, t.description) : null,
        h('ul', { class: 'cols' }, cols.map(colItem))));
    };
    const schemaItem = ([schema, list]) => h('details', { open: !!f || bySchema.size <= 3 },
      h('summary', {}, h('span', { class: 'schema-name' }, schema || 'main'), h('span', { class: 'muted small' }, ` ${list.length}`)),
      h('ul', {}, list.map(([t, cols]) => tableItem(t, cols))));
    replace(schemaBox, [...bySchema.entries()].map(schemaItem));
  }
  schemaFilter.oninput = renderSchema;

  async function loadSchema() {
    replace(schemaBox, h('p', { class: 'muted small' }, 'Loading…'));
    if ((await has('get', '/api/schema')) === false) { replace(schemaBox, h('p', { class: 'muted small' }, 'The schema browser needs GET /api/schema, which this server does not offer yet. Try: SELECT * FROM information_schema.tables')); return; }
    try {
      const s = await api('/api/schema');
      tables = items(s, 'tables');
      if (!tables.length && Array.isArray(s && s.schemas)) {
        for (const sc of s.schemas) for (const t of sc.tables || []) tables.push({ ...t, schema: sc.name });
      }
    } catch (err) {
      replace(schemaBox, errorBox(err, 'Schema unavailable.'));
      return;
    }
    renderSchema();
    schemaNs = {};
    for (const t of tables) {
      const key = t.schema || 'main';
      schemaNs[key] = schemaNs[key] || {};
      schemaNs[key][t.name] = (t.columns || []).map((c) => c.name);
    }
    view.dispatch({ effects: langComp.reconfigure(sqlLang({ dialect: PostgreSQL, upperCaseKeywords: true, schema: schemaNs })) });
  }

  loadQueries();
  loadSchema();
  view.focus();
  return () => {
    window.removeEventListener('themechange', onTheme);
    if (running) { api(`/api/query/${enc(running.queryId)}`, { method: 'DELETE' }).catch(() => {}); running.abort.abort(); }
    view.destroy();
  };
}
