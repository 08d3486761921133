// snapshot_test.mjs: opens an ExoHunter snapshot with a DuckDB client that
// is not the Go driver (npm @duckdb/node-api) and checks it is the
// self-contained, documented file a notebook needs, while the server that
// wrote it keeps running.
//
// Two ways to run it:
//
//   # against a running server on a fresh, empty database (scripts/e2e.sh):
//   # uploads the KOI sample, runs it, writes a label, then takes the
//   # snapshot with `$EXOHUNTER_BIN snapshot OUT --server URL` (or GET
//   # /api/snapshot without EXOHUNTER_BIN) and checks it.
//   EXOHUNTER_URL=http://127.0.0.1:18080 EXOHUNTER_BIN=bin/exohunter node e2e/snapshot_test.mjs
//
//   # on a snapshot file you already have (api/snapshot_e2e_test.go):
//   SNAPSHOT=/tmp/snap.duckdb node e2e/snapshot_test.mjs
//
// Env:
//   EXOHUNTER_URL    base URL of a running server (loopback), used when SNAPSHOT is not set
//   EXOHUNTER_BIN    the exohunter binary; when set, the snapshot is taken with its CLI (--server)
//   EXOHUNTER_SAMPLE the catalog to upload (default ../shared/data/koi_cumulative_2025.csv from the repo root)
//   EXOHUNTER_DATA   the server's --data-dir, if known: its database must not open while it runs
//   SNAPSHOT         an existing .duckdb snapshot to check instead
//   SNAPSHOT_EXPECT  optional JSON: {"tables": {"schema.name": rows}, "dataset": "koi",
//                    "categories": {category: rows}, "labels": n}
//   MAIN_DB          optional: the running server's database file (opening it must fail)
//
// Without expectations the checks are self-consistency checks: every run's
// category counts in meta.runs match its rows in runs.results.
// It is a node:test file: run directly it prints TAP and exits non-zero on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
const BASE = (process.env.EXOHUNTER_URL || '').replace(/\/+$/, '');
const BIN = process.env.EXOHUNTER_BIN ? resolve(repoRoot, process.env.EXOHUNTER_BIN) : '';
const SAMPLE = process.env.EXOHUNTER_SAMPLE || resolve(repoRoot, '../shared/data/koi_cumulative_2025.csv');
let SNAPSHOT = process.env.SNAPSHOT || '';
let EXPECT = process.env.SNAPSHOT_EXPECT ? JSON.parse(process.env.SNAPSHOT_EXPECT) : null;
let MAIN_DB = process.env.MAIN_DB
  || (process.env.EXOHUNTER_DATA ? join(process.env.EXOHUNTER_DATA, 'exohunter.duckdb') : '');

let instance;
let conn;
let workDir;

/** Runs a query and returns its rows as plain JS objects. */
async function rows(sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS();
}

/** Runs a query returning one value. */
async function value(sql) {
  const r = await rows(sql);
  assert.equal(r.length, 1, `one row expected from: ${sql}`);
  return Object.values(r[0])[0];
}

/** Quotes an SQL literal. */
const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;

/** Quotes schema.name as an SQL identifier pair. */
const ident = (key) => key.split('.').map((p) => `"${p.replaceAll('"', '""')}"`).join('.');

/** Calls the API and returns the decoded JSON body; fails on an error status. */
async function api(path, init = {}) {
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  assert.ok(res.ok, `${init.method || 'GET'} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Prepares a snapshot through a running server: upload, run, one label,
 * snapshot (CLI --server, or GET /api/snapshot), and the expectations.
 */
async function snapshotFromServer() {
  assert.ok(/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(BASE), `EXOHUNTER_URL must be a loopback URL, got ${BASE}`);
  workDir = await mkdtemp(join(tmpdir(), 'exohunter-snapshot-'));
  const form = new FormData();
  form.set('name', 'koi');
  form.set('file', new Blob([await readFile(SAMPLE)]), basename(SAMPLE));
  const ds = await api('/api/datasets', { method: 'POST', body: form });
  const start = await api(`/api/datasets/${ds.name}/runs`, { method: 'POST' });
  let run;
  for (const t0 = Date.now(); Date.now() - t0 < 600_000;) {
    run = await api(`/api/runs/${start.run_id}`);
    if (run.status === 'complete' || run.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(run.status, 'complete', `run ${start.run_id}`);
  const object = (await api(`/api/runs/${run.run_id}/results?limit=1`)).rows[0].object_id;
  await api('/api/labels', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ object_id: object, dataset: ds.name, label: 'candidate', annotator: 'e2e-snapshot' }),
  });
  SNAPSHOT = join(workDir, 'snapshot.duckdb');
  if (BIN) {
    const { stdout } = await promisify(execFile)(BIN, ['snapshot', SNAPSHOT, '--server', BASE], { timeout: 600_000 });
    const printed = JSON.parse(stdout);
    assert.equal(printed.path, SNAPSHOT);
    assert.deepEqual(printed.runs, [run.run_id]);
  } else {
    const res = await fetch(`${BASE}/api/snapshot`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.match(res.headers.get('content-disposition') || '', /^attachment; filename="exohunter-.*\.duckdb"$/);
    await writeFile(SNAPSHOT, Buffer.from(await res.arrayBuffer()));
  }
  EXPECT = {
    dataset: ds.name,
    categories: run.counts,
    labels: 1,
    tables: { [`classified.${ds.name}`]: ds.rows, 'runs.results': run.rows, [`runs.latest_${ds.name}`]: run.rows, 'meta.runs': 1 },
  };
}

before(async () => {
  if (!SNAPSHOT && BASE) {
    await snapshotFromServer();
  }
  assert.ok(SNAPSHOT, 'set SNAPSHOT to a .duckdb file, or EXOHUNTER_URL to a running server');
  assert.ok(existsSync(SNAPSHOT), `${SNAPSHOT} does not exist`);
  instance = await DuckDBInstance.create(SNAPSHOT, { access_mode: 'READ_ONLY' });
  conn = await instance.connect();
});

after(async () => {
  conn?.closeSync();
  instance?.closeSync?.();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('it is written in the storage version the README names', async () => {
  const v = await value(`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`);
  assert.match(String(v), /^v1\.0\.0/);
  const meta = await rows(`SELECT storage_version FROM meta.snapshot`);
  assert.equal(meta.length, 1);
  assert.equal(meta[0].storage_version, 'v1.0.0');
});

test('it is self-contained: no view reads a file of the server', async () => {
  const views = await rows(`SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal`);
  for (const v of views) {
    assert.doesNotMatch(v.sql, /read_(csv|parquet|json)|\/data\//i, `${v.schema_name}.${v.view_name} reads a file`);
  }
  const dbs = await rows(`SELECT database_name FROM duckdb_databases() WHERE NOT internal`);
  assert.equal(dbs.length, 1, 'no other database is attached');
});

test('the tables a notebook starts from are there, with their row counts', async () => {
  const listed = new Set((await rows(`SELECT schema_name || '.' || table_name AS k FROM catalog.tables`)).map((r) => r.k));
  for (const k of ['meta.datasets', 'meta.runs', 'meta.snapshot', 'runs.results', 'catalog.tables', 'catalog.columns', 'catalog.dictionary']) {
    assert.ok(listed.has(k), `catalog.tables lists ${k}`);
  }
  const datasets = await rows(`SELECT name, rows::BIGINT AS n FROM meta.datasets`);
  assert.ok(datasets.length > 0, 'at least one dataset');
  for (const d of datasets) {
    for (const s of ['normalized', 'metrics', 'classified']) {
      const k = `${s}.${d.name}`;
      assert.ok(listed.has(k), `${k} is in the snapshot`);
      assert.equal(Number(await value(`SELECT count(*) FROM ${ident(k)}`)), Number(d.n), `${k} has every row of the file`);
    }
  }
  for (const [k, n] of Object.entries(EXPECT?.tables ?? {})) {
    assert.ok(listed.has(k), `catalog.tables lists ${k}`);
    assert.equal(Number(await value(`SELECT count(*) FROM ${ident(k)}`)), Number(n), `rows of ${k}`);
  }
});

test('columns carry their descriptions and units as comments', async () => {
  const ds = EXPECT?.dataset ?? (await value(`SELECT min(name) FROM meta.datasets`));
  const prad = await value(`SELECT comment FROM duckdb_columns()
    WHERE schema_name = 'classified' AND table_name = ${lit(ds)} AND column_name = 'koi_prad'`);
  assert.equal(prad, 'Planet radius [R_earth]');
  const [c] = await rows(`SELECT count(*)::INTEGER AS n, count(comment)::INTEGER AS commented FROM duckdb_columns()
    WHERE schema_name IN ('normalized', 'metrics', 'classified', 'runs') AND NOT internal`);
  assert.ok(c.n > 0 && c.commented === c.n, `${c.commented} of ${c.n} columns have a comment`);
  // every canonical column and metric says its unit, as the dictionary does
  const missing = await rows(`SELECT c.table_name, c.column_name FROM duckdb_columns() c
    JOIN catalog.dictionary d ON d.column_name = c.column_name
    WHERE c.schema_name = 'classified' AND d.unit <> '' AND NOT ends_with(c.comment, '[' || d.unit || ']')`);
  assert.deepEqual(missing, [], 'canonical columns and metrics carry their unit');
  const t = await value(`SELECT comment FROM duckdb_tables() WHERE schema_name = 'runs' AND table_name = 'results'`);
  assert.match(String(t), /run/i);
  const unit = await value(`SELECT unit FROM catalog.columns
    WHERE schema_name = 'metrics' AND table_name = ${lit(ds)} AND column_name = 'koi_sma'`);
  assert.equal(unit, 'AU');
});

test('a science query answers, and matches what the server recorded', async () => {
  const runs = await rows(`SELECT run_id, dataset, counts::VARCHAR AS counts FROM meta.runs`);
  assert.ok(runs.length > 0, 'at least one run');
  for (const r of runs) {
    const got = Object.fromEntries((await rows(`SELECT category, count(*)::INTEGER AS n FROM runs.results
      WHERE run_id = ${lit(r.run_id)} GROUP BY ALL`)).map((x) => [x.category, x.n]));
    assert.deepEqual(got, JSON.parse(r.counts), `category counts of run ${r.run_id}`);
  }
  if (EXPECT?.categories) {
    const got = Object.fromEntries((await rows(`SELECT category, count(*)::INTEGER AS n
      FROM runs."latest_${EXPECT.dataset}" GROUP BY ALL`)).map((x) => [x.category, x.n]));
    assert.deepEqual(got, EXPECT.categories);
  }
  // JSON columns work in this client too (the mapping report).
  const mapped = await value(`SELECT m.canonical FROM meta.datasets,
    unnest(from_json(mapping, '[{"source":"VARCHAR","canonical":"VARCHAR"}]')) AS t(m)
    WHERE m.source IN ('kepoi_name', 'toi', 'pl_name') LIMIT 1`);
  assert.equal(mapped, 'object_id');
  if (EXPECT?.labels !== undefined) {
    assert.equal(Number(await value(`SELECT count(*) FROM labels.labels`)), EXPECT.labels);
  }
});

test('the server\'s own database cannot be opened while it runs', { skip: !MAIN_DB && 'MAIN_DB or EXOHUNTER_DATA not set' }, async () => {
  await assert.rejects(DuckDBInstance.create(MAIN_DB, { access_mode: 'READ_ONLY' }), /lock/i);
});
