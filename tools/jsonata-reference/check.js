// Evaluates templates on jsonata-js, the reference JSONata implementation (the engine of the public
// playground), and compares each result with the Rust engine's. Input: a JSON file of cases
// [{name, source, input, expected}] written by tests/fidelity.rs. Exit 1 on any difference.
'use strict';
const fs = require('fs');
const jsonata = require('jsonata');

const BUILTIN_MARK = 'USE_BUILTIN:';

// The host functions of src/transform/functions.rs, with the same behaviour.
function jsonObject(text) {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch (e) {
    return undefined;
  }
}

function mergeTurns(turns, roleKey = 'role', contentKey = 'content') {
  if (turns === undefined || turns === null) return [];
  if (!Array.isArray(turns)) turns = [turns];
  const out = [];
  for (const turn of turns) {
    const prev = out[out.length - 1];
    if (prev && turn && prev[roleKey] !== undefined && prev[roleKey] === turn[roleKey] && Array.isArray(prev[contentKey])) {
      const extra = turn[contentKey];
      const items = Array.isArray(extra) ? extra : extra === undefined || extra === null ? [] : [extra];
      out[out.length - 1] = { ...prev, [contentKey]: prev[contentKey].concat(items) };
      continue;
    }
    out.push(turn);
  }
  return out;
}

const GEMINI_KEYS = new Set(['type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems',
  'properties', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'anyOf',
  'propertyOrdering', 'default', 'items', 'minimum']);

function geminiSchema(schema) {
  const defs = (schema && (schema.$defs || schema.definitions)) || null;
  return clean(schema, defs, 0);
}

function clean(schema, defs, depth) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop();
    if (defs && defs[name] !== undefined && depth < 16) return clean(defs[name], defs, depth + 1);
  }
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type') {
      if (Array.isArray(v)) {
        const nonNull = v.filter((t) => t !== 'null');
        if (nonNull.length > 0) out.type = nonNull[0];
        if (nonNull.length < v.length) out.nullable = true;
      } else out.type = v;
    } else if (k === 'const') out.enum = [v];
    else if (k === 'maximum') out[k] = v;
    else if (k === 'properties') {
      const props = {};
      if (v && typeof v === 'object') for (const [n, s] of Object.entries(v)) props[n] = clean(s, defs, depth + 1);
      out[k] = props;
    } else if (k === 'items') out[k] = clean(v, defs, depth + 1);
    else if (k === 'anyOf' || k === 'oneOf') out.anyOf = Array.isArray(v) ? v.map((s) => clean(s, defs, depth + 1)) : [];
    else if (GEMINI_KEYS.has(k)) out[k] = v;
  }
  return out;
}

// Compares JSON values, object key order aside.
function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return same(ka, kb) && ka.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

async function run(c) {
  const expr = jsonata(c.source);
  expr.registerFunction('parseJson', (s) => JSON.parse(s));
  expr.registerFunction('jsonObject', jsonObject);
  expr.registerFunction('mergeTurns', mergeTurns);
  expr.registerFunction('geminiSchema', geminiSchema);
  expr.registerFunction('refuse', (why) => { throw new Error('REFUSE:' + why); });
  expr.registerFunction('builtin', (why) => { throw new Error(BUILTIN_MARK + why); });
  try {
    const result = await expr.evaluate(c.input);
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  } catch (e) {
    const msg = String(e && e.message);
    if (msg.startsWith(BUILTIN_MARK)) return { __builtin__: msg.slice(BUILTIN_MARK.length) };
    return { __error__: true };
  }
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  let failed = 0;
  for (const c of cases) {
    const got = await run(c);
    if (!same(got, c.expected)) {
      failed += 1;
      console.log(`DIFFERS ${c.name}\n  jsonata-js: ${JSON.stringify(got)}\n  service:    ${JSON.stringify(c.expected)}`);
    }
  }
  console.log(`${cases.length - failed} same, ${failed} different`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
