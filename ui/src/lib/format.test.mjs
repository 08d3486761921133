// node --test ui/src/lib/: display formats (scripts/e2e.sh runs it).
import test from 'node:test';
import assert from 'node:assert/strict';
import { percent, num, bytes } from './format.js';

test('percent: one decimal, and a small non-zero share is not 0.0%', () => {
  assert.equal(percent(2, 4004), '<0.1%');
  assert.equal(percent(0, 4004), '0.0%');
  assert.equal(percent(1, 8), '12.5%');
  assert.equal(percent(1, 0), '');
});

test('num: four significant digits, exponents outside 1e-3..1e7', () => {
  assert.equal(num(0.004858), '0.004858');
  assert.equal(num(5.01e-4), '5.010e-4');
  assert.equal(num(1234567.891), '1,235,000');
  assert.equal(num(null), '—');
});

test('bytes are decimal units, as the labels say', () => {
  assert.equal(bytes(3439102), '3.4 MB');
  assert.equal(bytes(3965733), '4.0 MB');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(12837466112), '12.8 GB');
  assert.equal(bytes(null), '—');
});
