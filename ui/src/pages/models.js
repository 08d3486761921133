// Models: trained models, their metrics, confusion matrix and model card.
// Shows "not available yet" while GET /api/models answers 404.
import { h, replace, errorBox, notAvailable, select, progressBar, toast } from '../lib/dom.js';
import { api, items, enc, followJob } from '../lib/api.js';
import { num, age, count } from '../lib/format.js';
import { confusion } from './labeling.js';
import { setHashParams } from '../lib/state.js';
import { has } from '../lib/capabilities.js';

const METRICS = [['accuracy', 'accuracy (p ≥ 0.5)'], ['f1_macro', 'macro F1'], ['roc_auc', 'ROC AUC'], ['pr_auc', 'PR AUC']];

export async function render(root, params) {
  const listBox = h('div', { class: 'panel-body' });
  const detail = h('div');
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Models'),
    h('p', { class: 'muted' }, 'Supervised classifiers of the NASA disposition from physics alone, and anomaly detectors. Their scores appear as result columns (anomaly_score, model probability) filterable on the Results page.')),
  h('section', { class: 'panel', 'aria-labelledby': 'models-title' },
    h('header', { class: 'panel-head' }, h('h2', { id: 'models-title' }, 'Trained models')), listBox),
  detail);

  let list;
  try {
    if ((await has('get', '/api/models')) === false) throw Object.assign(new Error('no models route'), { missing: true });
    list = items(await api('/api/models'), 'models');
  } catch (err) {
    if (err.missing) {
      replace(root, h('div', { class: 'page-head' }, h('h1', {}, 'Models')),
        notAvailable('Models are not available yet', 'This server does not offer the models API yet (GET /api/models). Once models are trained, their metrics, confusion matrices and cards show here, and anomaly_score and model probability become result columns.'));
      return;
    }
    replace(listBox, errorBox(err));
    return;
  }
  if ((await has('post', '/api/models/train')) !== false) listBox.append(trainForm());
  if (!list.length) {
    listBox.prepend(h('p', { class: 'empty' }, 'No models trained yet. Run `exohunter train` or start training below.'));
    return;
  }
  list.sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
  listBox.prepend(h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact' },
    h('thead', {}, h('tr', {}, ['model', 'version', 'target', ...METRICS.map((m) => m[1]), 'trained'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, list.map((m) => h('tr', { class: m.leaky ? 'leaky' : '' },
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'linklike', onclick: () => show(m.name, m.version) }, m.name), m.leaky ? h('span', { class: 'badge warn', title: 'Trained with leaky columns, for comparison only' }, 'leaky') : null),
      h('td', { class: 'mono' }, m.version), h('td', {}, m.target || '—'),
      METRICS.map(([k]) => h('td', { class: 'numcell' }, num(metric(m.metrics, k), 3))),
      h('td', {}, age(m.created_at))))))));

  async function show(name, version) {
    setHashParams({ model: `${name}/${version}` });
    replace(detail, h('p', { class: 'muted' }, 'Loading…'));
    let m;
    try {
      m = await api(`/api/models/${enc(name)}/${enc(version)}`);
    } catch (err) {
      replace(detail, errorBox(err));
      return;
    }
    const mt = m.metrics || {};
    const cm = mt.confusion_matrix || mt.confusion;
    const cmLabels = (cm && cm.labels) || mt.labels || mt.classes || [];
    const cmMatrix = cm && Array.isArray(cm.matrix) ? cm.matrix : Array.isArray(cm) ? cm : null;
    const per = mt.per_class && typeof mt.per_class === 'object' ? Object.entries(mt.per_class) : [];
    replace(detail, h('section', { class: 'panel', 'aria-labelledby': 'model-title' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'model-title' }, `${name} / ${version}`), h('span', { class: 'muted' }, m.target || '')),
      h('div', { class: 'panel-body model-detail' },
        h('div', { class: 'stats' }, METRICS.map(([k, label]) => h('div', { class: 'stat' },
          h('span', { class: 'stat-v' }, num(metric(mt, k), 3)), h('span', { class: 'stat-l' }, label),
          spread(mt, k)))),
        cmMatrix && cmLabels.length ? confusion('Confusion matrix (out-of-fold)', cmLabels, cmMatrix, 'true', 'predicted') : null,
        per.length ? h('table', { class: 'grid compact' }, h('caption', {}, 'Per class'),
          h('thead', {}, h('tr', {}, ['class', 'precision', 'recall', 'support'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, per.map(([c, v]) => h('tr', {}, h('th', { scope: 'row' }, c), h('td', { class: 'numcell' }, num(v.precision, 3)), h('td', { class: 'numcell' }, num(v.recall, 3)), h('td', { class: 'numcell' }, count(v.support)))))) : null,
        Array.isArray(m.features) && m.features.length ? h('details', {}, h('summary', {}, `Features (${m.features.length})`), h('ul', { class: 'chips' }, m.features.map((f) => h('li', {}, f)))) : null,
        m.card ? h('article', { class: 'model-card', 'aria-label': 'Model card' }, markdown(m.card)) : null,
        m.data_card ? h('details', {}, h('summary', {}, 'Data card'), h('article', { class: 'model-card' }, markdown(m.data_card))) : null)));
  }
  const want = params.get('model') || `${list[0].name}/${list[0].version}`;
  if (want.includes('/')) show(...want.split('/'));
}

function metric(mt, k) {
  if (!mt) return null;
  const v = mt[k] ?? (mt.test && mt.test[k]) ?? (mt.cv && mt.cv[k]);
  return v && typeof v === 'object' ? v.mean ?? v.value : v;
}
function spread(mt, k) {
  const v = mt && ((mt.cv && mt.cv[k]) || mt[k]);
  return v && typeof v === 'object' && v.std != null ? h('span', { class: 'stat-l' }, `± ${num(v.std, 2)} (5-fold)`) : null;
}

function trainForm() {
  const target = select(['confirmed_vs_fp', 'planet_vs_fp', 'disposition'], 'confirmed_vs_fp', { id: 'train-target' });
  const leaky = h('input', { type: 'checkbox', id: 'train-leaky' });
  const bar = progressBar('Training progress');
  bar.hidden = true;
  const go = h('button', { type: 'submit', class: 'btn' }, 'Train');
  return h('details', { class: 'train' }, h('summary', {}, 'Train a model'),
    h('form', {
      class: 'form inline-form', onsubmit: async (e) => {
        e.preventDefault();
        go.disabled = true;
        bar.hidden = false;
        bar.set(null, 'Starting…');
        try {
          const r = await api('/api/models/train', { method: 'POST', body: { target: target.value, leaky: leaky.checked || undefined } });
          const job = r.job_id ? await followJob(r.job_id, (j) => bar.set(typeof j.progress === 'number' ? (j.progress > 1 ? j.progress / 100 : j.progress) : null, j.message || j.status)).promise : r;
          if (job.status === 'failed') throw new Error(job.message || 'Training failed.');
          bar.set(1, 'Done');
          toast('Model trained', 'ok');
          setTimeout(() => window.dispatchEvent(new HashChangeEvent('hashchange')), 500);
        } catch (err) {
          bar.set(0, err.message);
        } finally { go.disabled = false; }
      },
    }, h('label', { for: 'train-target', class: 'inline-label' }, 'Target'), target,
    h('label', { for: 'train-leaky', class: 'inline-label' }, leaky, ' leaky variant (for comparison)'), go, bar));
}

/** Minimal, safe Markdown: headings, lists, code blocks, tables, paragraphs. Text only, never innerHTML. */
export function markdown(src) {
  const out = h('div');
  const lines = String(src).split('\n');
  let i = 0;
  const inline = (text) => {
    const parts = [];
    const re = /(`[^`]+`|\*\*[^*]+\*\*)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      parts.push(m[0].startsWith('`') ? h('code', {}, m[0].slice(1, -1)) : h('strong', {}, m[0].slice(2, -2)));
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    return parts;
  };
  while (i < lines.length) {
    const l = lines[i];
    if (/^```/.test(l)) {
      const buf = [];
      i += 1;
      while (i < lines.length && !/^```/.test(lines[i])) buf.push(lines[i++]);
      i += 1;
      out.append(h('pre', {}, h('code', {}, buf.join('\n'))));
    } else if (/^#{1,6} /.test(l)) {
      const level = Math.min(6, l.match(/^#+/)[0].length + 2);
      out.append(h(`h${level}`, {}, inline(l.replace(/^#+ /, ''))));
      i += 1;
    } else if (/^\s*[-*] /.test(l)) {
      const ul = h('ul');
      while (i < lines.length && /^\s*[-*] /.test(lines[i])) ul.append(h('li', {}, inline(lines[i++].replace(/^\s*[-*] /, ''))));
      out.append(ul);
    } else if (/^\|/.test(l)) {
      const rows = [];
      while (i < lines.length && /^\|/.test(lines[i])) rows.push(lines[i++]);
      const cells = (r) => r.replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      const body = rows.filter((r) => !/^\|[\s:|-]+\|$/.test(r));
      out.append(h('table', { class: 'grid compact' }, h('thead', {}, h('tr', {}, cells(body[0] || '').map((c) => h('th', { scope: 'col' }, inline(c))))),
        h('tbody', {}, body.slice(1).map((r) => h('tr', {}, cells(r).map((c) => h('td', {}, inline(c))))))));
    } else if (!l.trim()) {
      i += 1;
    } else {
      const buf = [];
      while (i < lines.length && lines[i].trim() && !/^(#|```|\s*[-*] |\|)/.test(lines[i])) buf.push(lines[i++]);
      out.append(h('p', {}, inline(buf.join(' '))));
    }
  }
  return out;
}
