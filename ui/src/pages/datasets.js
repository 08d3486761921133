// Datasets: import (upload with progress, URL or bucket, NASA archive), the
// list, and the mapping report of the selected dataset.
import { h, replace, clear, field, select, progressBar, toast, errorBox } from '../lib/dom.js';
import { api, items, upload, enc } from '../lib/api.js';
import { bytes, count, age } from '../lib/format.js';
import { unit, loadDictionary, prettyUnit } from '../lib/dict.js';
import { state, setRun, setHashParams, refreshRuns } from '../lib/state.js';

const NASA_TABLES = [
  ['cumulative', 'cumulative — Kepler KOI cumulative'],
  ['toi', 'toi — TESS Objects of Interest'],
  ['k2pandc', 'k2pandc — K2 planets and candidates'],
  ['pscomppars', 'pscomppars — Planetary Systems composite'],
  ['ps', 'ps — Planetary Systems (all parameter sets)'],
];

export async function render(root, params) {
  let selected = params.get('dataset') || '';
  const listBox = h('div', { class: 'panel-body' });
  const reportBox = h('section', { class: 'panel', 'aria-labelledby': 'mapping-title' });
  const downloadsBox = h('div', { class: 'panel-body' });

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Datasets'),
      h('p', { class: 'muted' }, 'Bring in a Kepler KOI, TESS TOI, K2 or Planetary Systems table. Files are stored byte for byte; columns are mapped to the KOI standard.')),
    h('div', { class: 'grid-2' },
      importPanel(onImported),
      h('section', { class: 'panel', 'aria-labelledby': 'ds-list-title' },
        h('header', { class: 'panel-head' }, h('h2', { id: 'ds-list-title' }, 'Stored datasets'),
          h('button', { type: 'button', class: 'btn-ghost', onclick: () => loadList() }, 'Refresh')),
        listBox)),
    reportBox,
    h('section', { class: 'panel', 'aria-labelledby': 'dl-title', 'data-testid': 'downloads' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'dl-title' }, 'Downloads for notebooks')), downloadsBox));

  async function loadList() {
    replace(listBox, h('p', { class: 'muted' }, 'Loading…'));
    let list;
    try {
      list = items(await api('/api/datasets'), 'datasets');
    } catch (err) {
      replace(listBox, errorBox(err, 'Could not list datasets.'));
      return;
    }
    if (!list.length) {
      replace(listBox, h('p', { class: 'empty' }, 'No datasets yet. Upload a catalog file, or import one from the NASA Exoplanet Archive.'));
      return;
    }
    list.sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
    const tbody = h('tbody');
    for (const d of list) {
      const tr = h('tr', { class: d.name === selected ? 'selected' : '', 'data-dataset': d.name },
        h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike', onclick: () => showReport(d.name), title: d.original_name || '' }, d.name)),
        h('td', {}, d.mission || '—'),
        h('td', { class: 'numcell' }, count(d.rows)),
        h('td', { class: 'numcell' }, bytes(d.bytes)),
        h('td', { title: d.created_at || '' }, age(d.created_at)),
        h('td', { class: 'actions' },
          h('a', { class: 'btn-small', href: `#/run?dataset=${enc(d.name)}` }, 'Run…'),
          h('button', { type: 'button', class: 'btn-small btn-danger-ghost', 'aria-label': `Delete dataset ${d.name}`, onclick: () => remove(d.name) }, 'Delete')));
      tbody.append(tr);
    }
    replace(listBox, h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': 'datasets-table' },
      h('thead', {}, h('tr', {}, ...['name', 'mission', 'rows', 'size', 'age', 'actions'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)));
  }

  // loadDownloads lists what a notebook starts from: the snapshot file,
  // the labels and every feature set, as links to their export routes.
  async function loadDownloads() {
    let sets;
    try {
      sets = items(await api('/api/features'), 'items');
    } catch (err) {
      sets = err;
    }
    const link = (href, text, title) => h('a', { class: 'btn-small', href, download: '', title }, text);
    replace(downloadsBox,
      h('p', {}, link('/api/snapshot', 'Snapshot (.duckdb)', 'GET /api/snapshot'),
        ' Every dataset, the latest run of each, labels and feature sets in one DuckDB file: ',
        h('code', {}, 'duckdb.connect(path, read_only=True)'), '. With many datasets it takes a minute or more.'),
      h('p', {}, link('/api/labels/export?format=csv', 'Labels CSV', 'GET /api/labels/export?format=csv'), ' ',
        link('/api/labels/export?format=parquet', 'Labels Parquet', 'GET /api/labels/export?format=parquet'),
        ' The current label of every object and source; labels rejected in review are left out.'),
      h('h3', {}, 'Feature sets'),
      sets instanceof Error ? errorBox(sets, 'Could not list feature sets.')
        : !sets.length ? h('p', { class: 'empty' }, 'No feature sets yet: training a model builds one, or run exohunter features build --version V.')
          : h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact', 'data-testid': 'feature-sets' },
            h('thead', {}, h('tr', {}, ['version', 'dataset', 'run', 'rows', 'age', 'download'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, sets.map((m) => h('tr', { 'data-version': m.version },
              h('th', { scope: 'row', class: 'mono' }, m.version),
              h('td', {}, m.source?.dataset || '—'), h('td', { class: 'mono small' }, m.source?.run_id || '—'),
              h('td', { class: 'numcell' }, count(m.rows)), h('td', { title: m.created_at || '' }, age(m.created_at)),
              h('td', { class: 'actions' }, link(`/api/features/${enc(m.version)}/download?format=parquet`, 'Parquet'),
                link(`/api/features/${enc(m.version)}/download?format=csv`, 'CSV'))))))));
  }

  async function remove(name) {
    if (!confirm(`Delete dataset "${name}"? Its stored file, views and runs are removed.`)) return;
    try {
      await api(`/api/datasets/${enc(name)}`, { method: 'DELETE' });
      toast(`Deleted ${name}`);
      if (selected === name) { selected = ''; clear(reportBox); }
      loadList();
      // note: its runs are gone; the header's picker must not keep one, nor
      // report the run the user just deleted as missing.
      if (state.runs.find((r) => r.run_id === state.run)?.dataset === name) setRun('', { silent: true });
      refreshRuns();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  async function showReport(name, fromImport) {
    selected = name;
    setHashParams({ dataset: name });
    for (const tr of listBox.querySelectorAll('tr[data-dataset]')) tr.classList.toggle('selected', tr.dataset.dataset === name);
    if (fromImport) renderReport(reportBox, fromImport);
    else replace(reportBox, h('p', { class: 'muted panel-body' }, 'Loading mapping report…'));
    try {
      const [d] = await Promise.all([api(`/api/datasets/${enc(name)}`), loadDictionary()]);
      if (selected === name) renderReport(reportBox, d);
    } catch (err) {
      if (!fromImport) replace(reportBox, errorBox(err, `Could not load ${name}.`));
    }
  }

  function onImported(d, duplicate) {
    if (duplicate) toast(d.note || `These bytes are already stored as "${d.duplicate_of || d.name}"`, 'info');
    else toast(`Imported ${d.name}: ${count(d.rows)} rows`, 'ok');
    loadList();
    showReport(d.duplicate_of || d.name, d);
  }

  await loadList();
  loadDownloads();
  if (selected) showReport(selected);
}

function importPanel(onImported) {
  const body = h('div', { class: 'panel-body' });
  const tabs = [
    ['upload', 'Upload file', uploadForm],
    ['url', 'URL or bucket', urlForm],
    ['nasa', 'NASA archive', nasaForm],
  ];
  const tabBtns = tabs.map(([key, label], i) => h('button', {
    type: 'button', role: 'tab', id: `tab-${key}`, 'aria-controls': 'import-tabpanel', 'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1',
    onclick: () => pick(i),
    onkeydown: (e) => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const j = (i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
        pick(j); tabBtns[j].focus();
      }
    },
  }, label));
  const panel = h('div', { role: 'tabpanel', id: 'import-tabpanel' });
  function pick(i) {
    tabBtns.forEach((b, j) => { b.setAttribute('aria-selected', j === i ? 'true' : 'false'); b.tabIndex = j === i ? 0 : -1; });
    panel.setAttribute('aria-labelledby', tabBtns[i].id);
    replace(panel, tabs[i][2](onImported));
  }
  body.append(h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Import from' }, tabBtns), panel);
  pick(0);
  return h('section', { class: 'panel', 'aria-labelledby': 'import-title' },
    h('header', { class: 'panel-head' }, h('h2', { id: 'import-title' }, 'Import a catalog')), body);
}

function nameInput() {
  return h('input', { type: 'text', name: 'name', pattern: '[A-Za-z_][A-Za-z0-9_]*', title: 'Letters, digits and underscores, not starting with a digit (it names the dataset\'s SQL views, e.g. raw.my_koi)', placeholder: 'derived from the file name', autocomplete: 'off' });
}

function uploadForm(onImported) {
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.tsv,.txt,.gz,.parquet,text/csv', required: true, 'data-testid': 'upload-file' });
  const name = nameInput();
  const bar = progressBar('Upload progress');
  bar.hidden = true;
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const go = h('button', { type: 'submit', class: 'btn', 'data-testid': 'upload-submit' }, 'Upload');
  const cancel = h('button', { type: 'button', class: 'btn-ghost', hidden: true }, 'Cancel');
  let job = null;
  const form = h('form', {
    class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      const f = file.files && file.files[0];
      if (!f) { status.textContent = 'Choose a CSV or Parquet file first.'; return; }
      go.disabled = true;
      cancel.hidden = false;
      bar.hidden = false;
      bar.set(0, `0% of ${bytes(f.size)}`);
      status.textContent = `Uploading ${f.name}…`;
      job = upload('/api/datasets', f, { name: name.value.trim() }, (p, phase, loaded, total) => {
        if (phase === 'upload' && p !== null) bar.set(p, `${Math.round(p * 100)}% · ${bytes(loaded)} of ${bytes(total)}`);
        else if (phase === 'server') { bar.set(null, 'Stored; the server is reading the file…'); status.textContent = 'Counting rows and mapping columns…'; }
      });
      cancel.onclick = () => job && job.abort();
      try {
        const { status: code, body } = await job.promise;
        bar.set(1, 'Done');
        status.textContent = '';
        form.reset();
        onImported(body, code === 200 || !!(body && body.duplicate_of));
      } catch (err) {
        bar.hidden = true;
        status.textContent = '';
        status.append(h('span', { class: 'error-text', role: 'alert' }, err.message));
      } finally {
        go.disabled = false;
        cancel.hidden = true;
        job = null;
      }
    },
  },
  field('CSV or Parquet file', file, 'Comma, tab, semicolon or pipe separated, optionally gzip; NASA # headers are fine.'),
  field('Dataset name (optional)', name),
  h('div', { class: 'actions' }, go, cancel), bar, status);
  return form;
}

function jsonImportForm(fields, bodyOf, submitLabel, onImported, testid) {
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const bar = progressBar('Import progress');
  bar.hidden = true;
  const go = h('button', { type: 'submit', class: 'btn', 'data-testid': testid }, submitLabel);
  return h('form', {
    class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      go.disabled = true;
      bar.hidden = false;
      bar.set(null, 'The server is fetching the data…');
      status.textContent = '';
      try {
        const d = await api('/api/datasets', { method: 'POST', body: bodyOf() });
        onImported(d, !!(d && d.duplicate_of));
        e.target.reset();
      } catch (err) {
        status.append(h('span', { class: 'error-text', role: 'alert' }, err.message));
      } finally {
        go.disabled = false;
        bar.hidden = true;
      }
    },
  }, fields, h('div', { class: 'actions' }, go), bar, status);
}

function urlForm(onImported) {
  const url = h('input', { type: 'text', name: 'url', required: true, placeholder: 's3://bucket/key.csv, gs://bucket/key.parquet or https://…', size: 40, autocomplete: 'off' });
  const name = nameInput();
  return jsonImportForm([
    field('URL', url, 's3:// uses the server\'s AWS credentials and endpoint; gs:// reads public objects.'),
    field('Dataset name (optional)', name),
  ], () => ({ url: url.value.trim(), name: name.value.trim() || undefined }), 'Import', onImported, 'url-submit');
}

function nasaForm(onImported) {
  const table = select(NASA_TABLES, 'cumulative', { name: 'nasa' });
  const where = h('input', { type: 'text', name: 'where', placeholder: "e.g. koi_disposition = 'CONFIRMED'", size: 40, autocomplete: 'off' });
  const sel = h('input', { type: 'text', name: 'select', placeholder: '* (all columns)', size: 40, autocomplete: 'off' });
  const name = nameInput();
  return jsonImportForm([
    field('Archive table', table, 'Fetched from the NASA Exoplanet Archive TAP service (sync, CSV) by the server.'),
    field('WHERE (optional)', where, 'ADQL condition passed to TAP.'),
    field('SELECT (optional)', sel),
    field('Dataset name (optional)', name),
  ], () => ({ nasa: table.value, where: where.value.trim() || undefined, select: sel.value.trim() || undefined, name: name.value.trim() || undefined }), 'Import from NASA', onImported, 'nasa-submit');
}

/** The mapping report: which source column became which canonical one, collisions, unmapped, units. */
function renderReport(box, d) {
  const mapping = Array.isArray(d.mapping) ? d.mapping : [];
  const dictRows = Array.isArray(d.dictionary) ? d.dictionary : Array.isArray(d.column_dictionary) ? d.column_dictionary : [];
  const srcUnit = new Map(dictRows.map((c) => [c.name, prettyUnit(c.unit)]));
  const byCanon = new Map();
  for (const m of mapping) {
    if (!m.canonical) continue;
    if (!byCanon.has(m.canonical)) byCanon.set(m.canonical, []);
    byCanon.get(m.canonical).push(m);
  }
  // Statuses (engine/mapping): mapped, shadowed (matched, but a higher-priority
  // column won), unmapped, dropped (name collides with a pipeline column),
  // constant and generated (a canonical column filled without a source column).
  const isMapped = (m) => ['mapped', 'constant', 'generated'].includes(m.status) || (!!m.canonical && !m.status);
  const mapped = mapping.filter(isMapped);
  const collisions = [...byCanon.entries()].filter(([, list]) => list.some((m) => /shadow|collision|lost/i.test(m.status || '')) || list.filter((m) => m.status === 'mapped').length > 1);
  const unmapped = mapping.filter((m) => m.status === 'unmapped' || (!m.canonical && !m.status));
  const dropped = mapping.filter((m) => m.status === 'dropped');

  const sum = h('div', { class: 'stats' },
    stat('rows', count(d.rows)), stat('mission', d.mission || '—'), stat('format', d.format || '—'),
    stat('size', bytes(d.bytes)), stat('mapped', count(mapped.length)), stat('collisions', count(collisions.length)),
    stat('unmapped', count(unmapped.length)));

  const mappedTable = h('table', { class: 'grid compact', 'data-testid': 'mapping-table' },
    h('caption', {}, 'Mapped columns'),
    h('thead', {}, h('tr', {}, ['canonical', 'unit', '← source column', 'source unit', 'alias matched', 'conversion'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, mapped.map((m) => h('tr', { title: m.reason || '' },
      h('th', { scope: 'row' }, h('code', {}, m.canonical)),
      h('td', { class: 'unit' }, unit(m.canonical)),
      h('td', {}, m.source ? h('code', {}, m.source) : h('span', { class: 'muted' }, `(${m.status}${m.reason ? `: ${m.reason}` : ''})`)),
      h('td', { class: 'unit' }, srcUnit.get(m.source) || ''),
      h('td', {}, m.alias || '—'),
      h('td', {}, m.conversion || 'none')))));

  const collisionBox = collisions.length
    ? h('table', { class: 'grid compact', 'data-testid': 'mapping-collisions' },
      h('caption', {}, 'Collisions: several source columns claim one canonical column; the explicit priority decides'),
      h('thead', {}, h('tr', {}, ['canonical', 'used', 'not used', 'status'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, collisions.map(([canon, list]) => {
        const win = list.find(isMapped);
        const lose = list.filter((m) => m !== win);
        return h('tr', {},
          h('th', { scope: 'row' }, h('code', {}, canon)),
          h('td', {}, win ? h('code', {}, win.source) : '—'),
          h('td', {}, lose.map((m, i) => [i ? ', ' : '', h('code', {}, m.source)])),
          h('td', {}, lose.map((m) => m.reason || m.status).filter(Boolean).join('; ') || 'lower priority'));
      })))
    : h('p', { class: 'ok-text' }, 'No collisions: each canonical column has exactly one source.');

  const unmappedBox = unmapped.length
    ? h('div', {}, h('h3', {}, `Unmapped columns (${unmapped.length}) — kept unchanged in the normalized view`),
      h('ul', { class: 'chips', 'data-testid': 'mapping-unmapped' }, unmapped.map((m) => h('li', { title: srcUnit.get(m.source) ? `unit: ${srcUnit.get(m.source)}` : '' }, m.source))))
    : null;

  const droppedBox = dropped.length
    ? h('div', {}, h('h3', {}, `Dropped columns (${dropped.length}) — their names collide with pipeline columns`),
      h('ul', { class: 'chips' }, dropped.map((m) => h('li', { title: m.reason || '' }, m.source))))
    : null;

  replace(box,
    h('header', { class: 'panel-head' },
      h('h2', { id: 'mapping-title' }, 'Mapping report: ', h('span', { class: 'mono' }, d.name)),
      h('a', { class: 'btn', href: `#/run?dataset=${enc(d.name)}`, 'data-testid': 'goto-run' }, 'Run this dataset →')),
    h('div', { class: 'panel-body', 'data-testid': 'mapping-report' },
      d.duplicate_of ? h('p', { class: 'note' }, `Identical bytes were already stored as ${d.duplicate_of}; showing that dataset.`) : null,
      retypedNote(d),
      d.original_name ? h('p', { class: 'muted' }, `From ${d.original_name}`, d.sha256 ? ` · sha256 ${String(d.sha256).slice(0, 16)}…` : '') : null,
      sum, collisionBox, mappedTable, unmappedBox, droppedBox));
}

/** Columns a run found holding text beyond the rows their type was sniffed from (csv.retyped). */
function retypedNote(d) {
  const retyped = d.csv && Array.isArray(d.csv.retyped) ? d.csv.retyped : [];
  if (!retyped.length) return null;
  return h('div', { class: 'note', 'data-testid': 'mapping-retyped' },
    h('p', {}, 'Read as text: a run met a value that the first rows, from which column types are taken, did not show.'),
    h('ul', {}, retyped.map((r) => h('li', {},
      h('code', {}, r.column), ` was typed ${r.was} from the first rows, but line ${count(r.line)} holds `, h('code', {}, JSON.stringify(r.value)),
      '; its values that are not numbers are empty where a number is needed.'))));
}

function stat(label, v) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-v' }, v), h('span', { class: 'stat-l' }, label));
}
