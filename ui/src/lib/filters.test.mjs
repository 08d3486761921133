// node --test ui/src/lib/: what a count counts (scripts/e2e.sh runs it).
import test from 'node:test';
import assert from 'node:assert/strict';
import { countNouns, DEFAULT_KEY } from './filters.js';

test('countNouns: rows (parameter sets) in a multi-set run, unless the default-set switch is on', () => {
  assert.deepEqual(countNouns(true, {}), ['row (parameter set)', 'rows (parameter sets)']);
  assert.deepEqual(countNouns(true, { [DEFAULT_KEY]: 'true' }), ['object', 'objects']);
  assert.deepEqual(countNouns(false, {}), ['object', 'objects']);
  assert.deepEqual(countNouns(false, { [DEFAULT_KEY]: 'true' }), ['object', 'objects']);
});
