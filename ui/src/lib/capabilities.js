// capabilities.js: which routes this server offers, read once (lazily) from
// GET /api/openapi.json. Pages whose endpoints may not exist yet (labeling,
// models, chart aggregates, schema, stored queries) ask here first, so they
// can show "not available yet" or a fallback without provoking 404s.
import { api } from './api.js';

let routes = null; // Promise<Set<string>|null>

const norm = (method, path) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}|:[A-Za-z_][A-Za-z0-9_]*/g, '{}').replace(/\/+$/, '')}`;

function load() {
  if (!routes) {
    routes = api('/api/openapi.json').then((doc) => {
      const set = new Set();
      for (const [path, ops] of Object.entries((doc && doc.paths) || {})) {
        for (const m of Object.keys(ops || {})) set.add(norm(m, path));
      }
      return set;
    }).catch(() => null);
  }
  return routes;
}

/**
 * true when the server documents the route, false when it documents others
 * but not this one, null when it cannot tell (no OpenAPI document): then
 * the caller simply tries the request.
 */
export async function has(method, path) {
  const set = await load();
  if (!set || set.size === 0) return null;
  return set.has(norm(method, path));
}
