// confusion.js: a confusion matrix as an accessible table, cells shaded by count.
import { h } from './dom.js';
import { count } from './format.js';
import { humanizeCategory } from './meta.js';

/** rows: true (or source A) classes; columns: predicted (or source B); diagonal = agreement. */
export function confusion(title, labels, matrix, rowLabel = 'actual', colLabel = 'predicted') {
  const max = Math.max(1, ...matrix.flat().map(Number));
  return h('table', { class: 'confusion', 'data-testid': 'confusion' },
    h('caption', {}, title),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, `${rowLabel} \\ ${colLabel}`), labels.map((l) => h('th', { scope: 'col' }, humanizeCategory(l))))),
    h('tbody', {}, matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, humanizeCategory(labels[i])),
      row.map((v, j) => h('td', { class: i === j ? 'diag' : '', style: { '--a': (Number(v) / max).toFixed(3) } }, count(v)))))));
}
