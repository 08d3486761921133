// node --test ui/src/lib/: the dashboard's habitable-zone curves use the
// same Kopparapu et al. (2014) coefficients as the pipeline's SQL.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HZ_LIMITS, seff, boundary, HZ_TEFF_MIN, HZ_TEFF_MAX } from './hz.js';

test('the coefficients are the ones configs/metrics.yaml computes with', () => {
  const yaml = readFileSync(new URL('../../../configs/metrics.yaml', import.meta.url), 'utf8');
  for (const [limit, L] of Object.entries(HZ_LIMITS)) {
    // e.g. "- name: hz_seff_recent_venus ... sql: nullif(greatest(0, 1.776 + 2.136e-4 * hz_teff_offset + ..."
    const block = yaml.split(`- name: hz_seff_${limit}\n`)[1];
    assert.ok(block, `metrics.yaml has hz_seff_${limit}`);
    const sql = block.split('\n').find((l) => l.trim().startsWith('sql:'));
    const nums = [...sql.matchAll(/([+-]?\s*\d+(?:\.\d+)?(?:e-?\d+)?)(?=\s*\*\s*(?:hz_teff_offset|pow)|\s*\+)/g)]
      .map((m) => Number(m[1].replace(/\s+/g, '')));
    assert.deepEqual(nums, [L.s, L.a, L.b, L.c, L.d], `${limit}: ${sql.trim()}`);
  }
});

test('the published check values at 3500 K (as the pipeline test checks them)', () => {
  const want = { recent_venus: 1.4948, runaway_greenhouse: 0.9317, maximum_greenhouse: 0.2470, early_mars: 0.2220 };
  for (const [limit, s] of Object.entries(want)) {
    assert.ok(Math.abs(seff(limit, 3500) - s) < 5e-4, `${limit}: ${seff(limit, 3500)} vs ${s}`);
  }
  // At the Sun's temperature S_eff is the constant term.
  assert.equal(seff('early_mars', 5780), HZ_LIMITS.early_mars.s);
});

test('a boundary spans the valid temperature range', () => {
  const pts = boundary('recent_venus', 100);
  assert.equal(pts[0][1], HZ_TEFF_MIN);
  assert.equal(pts.at(-1)[1], HZ_TEFF_MAX);
  assert.ok(pts.every(([s]) => s > 0));
});
