// main.js: the dashboard shell. Hash routing (#/page?params) so the server
// only has to serve index.html and /assets; each page module loads on first
// visit. First paint makes one request (GET /api/runs for the run picker)
// and opens no long-lived connection.
import './styles.css';
import { h, replace, errorBox } from './lib/dom.js';
import { token, setToken } from './lib/api.js';
import { state, setRun, refreshRuns, parseHash } from './lib/state.js';
import { closeDetail } from './lib/drawer.js';

const PAGES = {
  datasets: () => import('./pages/datasets.js'),
  run: () => import('./pages/run.js'),
  results: () => import('./pages/results.js'),
  charts: () => import('./pages/charts.js'),
  console: () => import('./pages/console.js'),
  labeling: () => import('./pages/labeling.js'),
  models: () => import('./pages/models.js'),
};
const TITLES = {
  datasets: 'Datasets', run: 'Run', results: 'Results', charts: 'Charts',
  console: 'SQL console', labeling: 'Labeling', models: 'Models',
};

let cleanup = null;
let routeSeq = 0;
let lastPage = '';

async function route() {
  // A hash that is not a route (#/...) is an in-page anchor: stay.
  if (lastPage && location.hash && !location.hash.startsWith('#/')) return;
  const { page, params } = parseHash();
  const name = PAGES[page] ? page : 'datasets';
  if (name === lastPage && params.get('_') === null && cleanup && cleanup.sameRoute) {
    cleanup.sameRoute(params);
    return;
  }
  const seq = ++routeSeq;
  closeDetail();
  if (cleanup) { try { (cleanup.dispose || cleanup)(); } catch { /* page already gone */ } cleanup = null; }
  lastPage = name;
  for (const a of document.querySelectorAll('.mainnav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · ExoHunter`;
  const main = document.getElementById('main');
  main.dataset.page = name;
  replace(main, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    const mod = await PAGES[name]();
    if (seq !== routeSeq) return;
    const root = h('div', { class: `page page-${name}` });
    replace(main, root);
    cleanup = (await mod.render(root, params)) || null;
  } catch (err) {
    if (seq !== routeSeq) return;
    replace(main, errorBox(err, 'This page could not be shown.'));
    console.error(err); // a broken page is a bug: the browser tests count console errors
  }
}

function initTheme() {
  const saved = (() => { try { return localStorage.getItem('exohunter.theme'); } catch { return null; } })();
  const prefersLight = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches;
  document.documentElement.dataset.theme = saved || (prefersLight ? 'light' : 'dark');
  document.getElementById('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem('exohunter.theme', next); } catch { /* ignore */ }
    window.dispatchEvent(new Event('themechange'));
  });
}

function initToken() {
  const btn = document.getElementById('token-btn');
  const mark = () => btn.classList.toggle('on', !!token());
  mark();
  btn.addEventListener('click', () => {
    const input = h('input', { type: 'password', value: token(), autocomplete: 'off', id: 'token-input' });
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'token-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'token-title' }, 'API token'),
        h('p', { class: 'muted' }, 'Needed only when the server sets EXOHUNTER_TOKEN. Sent as a Bearer token on write requests and kept in this browser.'),
        h('label', { for: 'token-input' }, 'Token'), input,
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', class: 'btn-ghost' }, 'Cancel'),
          h('button', { value: 'save', class: 'btn' }, 'Save'))));
    dlg.addEventListener('close', () => {
      if (dlg.returnValue === 'save') setToken(input.value.trim());
      dlg.remove();
      mark();
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

function init() {
  initTheme();
  initToken();
  const sel = document.getElementById('run-select');
  sel.addEventListener('change', () => setRun(sel.value));
  // Respect a run named in the URL before the picker loads.
  const { params } = parseHash();
  // note: through setRun, so that a reload of this URL (or of one that
  // drops run=) keeps the run rather than falling back to the newest.
  if (params.get('run')) setRun(params.get('run'), { silent: true });
  // note: the skip link moves focus only; as a plain #main link it would
  // change the hash, which this app reads as a page (and loses filters).
  document.querySelector('.skip-link')?.addEventListener('click', (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    main.setAttribute('tabindex', '-1');
    main.focus();
  });
  // note: no preferred run here: setRun has made the URL's run current, and
  // the list, once loaded, keeps whatever run is current by then (the user
  // may have moved on to another page's run while it loaded).
  refreshRuns();
  window.addEventListener('hashchange', route);
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
