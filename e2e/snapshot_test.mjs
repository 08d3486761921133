// snapshot_test.mjs: opens an ExoHunter snapshot with a DuckDB client that
// is not the Go driver (npm @duckdb/node-api) and checks it is the
// self-contained, documented file a notebook needs.
//
//   SNAPSHOT=/tmp/snap.duckdb node e2e/snapshot_test.mjs
//
// Env:
//   SNAPSHOT         the .duckdb file (required), e.g. from GET /api/snapshot
//   SNAPSHOT_EXPECT  optional JSON from the caller: {"tables": {"schema.name": rows},
//                    "dataset": "koi", "categories": {category: rows}, "labels": n}
//   MAIN_DB          optional: the running server's database file; opening it
//                    must fail (the server holds it), which is why snapshots exist
//
// Without SNAPSHOT_EXPECT the checks are self-consistency checks: every run's
// category counts in meta.runs match its rows in runs.results.
// It is a node:test file: run directly it prints TAP and exits non-zero on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const SNAPSHOT = process.env.SNAPSHOT || '';
const EXPECT = process.env.SNAPSHOT_EXPECT ? JSON.parse(process.env.SNAPSHOT_EXPECT) : null;
const MAIN_DB = process.env.MAIN_DB || '';

let instance;
let conn;

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

before(async () => {
  assert.ok(SNAPSHOT, 'set SNAPSHOT to the .duckdb file to check');
  assert.ok(existsSync(SNAPSHOT), `${SNAPSHOT} does not exist`);
  instance = await DuckDBInstance.create(SNAPSHOT, { access_mode: 'READ_ONLY' });
  conn = await instance.connect();
});

after(() => {
  conn?.closeSync();
  instance?.closeSync?.();
});

test('it is written in the storage version the README names', async () => {
  const v = await value(`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`);
  assert.match(String(v), /^v1\.0\.0/);
  const meta = await rows(`SELECT storage_version, array_length(run_ids)::INTEGER AS runs FROM meta.snapshot`);
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
  const datasets = (await rows(`SELECT name, rows::BIGINT AS n FROM meta.datasets`));
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
  assert.ok(c.n > 0 && c.commented / c.n > 0.95, `${c.commented} of ${c.n} columns have a comment`);
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

test('the server\'s own database cannot be opened while it runs', { skip: !MAIN_DB && 'MAIN_DB not set' }, async () => {
  await assert.rejects(DuckDBInstance.create(MAIN_DB, { access_mode: 'READ_ONLY' }), /lock/i);
});
