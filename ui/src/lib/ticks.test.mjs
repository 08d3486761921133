// node --test ui/src/lib/: the log-axis labels (scripts/e2e.sh runs it).
import test from 'node:test';
import assert from 'node:assert/strict';
import { logTicks } from './ticks.js';

test('powers of ten and 2 and 5 times them are labelled, other ticks not', () => {
  assert.deepEqual(logTicks(null, [1, 2, 3, 5, 10, 20, 30, 50, 100]), ['1', '2', '', '5', '10', '20', '', '50', '100']);
  assert.deepEqual(logTicks(null, [1e3, 1e4, 1e5]), ['1000', '1e4', '1e5']);
});

test('zoomed inside one decade every tick is labelled (none of 1, 2, 5 x 10^n is there)', () => {
  assert.deepEqual(logTicks(null, [3, 4, 6, 7, 8, 9]), ['3', '4', '6', '7', '8', '9']);
  assert.deepEqual(logTicks(null, [0.0031, 0.0042]), ['3.1e-3', '4.2e-3']);
});

test('a lone labelled tick is not enough: all are labelled', () => {
  assert.deepEqual(logTicks(null, [4, 5, 6, 7]), ['4', '5', '6', '7']);
});
