// node --test ui/src/lib/: display formats (scripts/e2e.sh runs it).
import test from 'node:test';
import assert from 'node:assert/strict';
import { percent, num, bytes, value } from './format.js';

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

test('num: a value never reads as a threshold it does not equal', () => {
  assert.equal(num(2.19963), '2.2');
  assert.equal(num(2.19963, 4, [2.2]), '2.1996', 'rounding would land on the threshold');
  assert.equal(num(1.99996, 4, [2]), '1.99996', 'nor on a whole-number one');
  assert.equal(num(2.00049, 4, [2.0003]), '2.0005', 'rounding would cross it');
  assert.equal(num(9.48803557, 4, [9.488]), '9.48804');
  assert.equal(num(7199.6, 4, [2600, 7200]), '7,199.6');
  assert.equal(num(0.00069996, 4, [0.0007]), '6.9996e-4', 'in exponent form too');
  assert.equal(num(2.2, 4, [2.2]), '2.2', 'a value on the threshold is shown as it is');
  assert.equal(num(3.14159, 4, [2.2, 6]), '3.142', 'far from every threshold: four digits');
  assert.equal(value(2.19963, [2.2]), '2.1996');
});

test('bytes are decimal units, as the labels say', () => {
  assert.equal(bytes(3439102), '3.4 MB');
  assert.equal(bytes(3965733), '4.0 MB');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(12837466112), '12.8 GB');
  assert.equal(bytes(null), '—');
});
