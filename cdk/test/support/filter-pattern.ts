/**
 * A small evaluator of the CloudWatch Logs JSON filter patterns this stack uses:
 * `{ $.a.b = "text" && $.c != "x" || $.n > 3 }` (comparisons of a JSON selector with a string or a
 * number; `&&` binds tighter than `||`; a `*` in a string is a wildcard). Not CloudWatch's parser:
 * enough to check that the patterns select the lines the service really writes.
 */
export function matchesFilterPattern(pattern: string, event: unknown): boolean {
  const body = /^\{\s*(.*?)\s*\}$/s.exec(pattern.trim());
  if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
  return body[1].split('||').some((conjunction) => conjunction.split('&&').every((term) => evaluate(term.trim(), event)));
}

function evaluate(term: string, event: unknown): boolean {
  const m = /^(\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(=|!=|>=|<=|>|<)\s*(".*"|-?\d+(?:\.\d+)?)$/.exec(term);
  if (!m) throw new Error(`unsupported filter term: ${term}`);
  const [, selector, op, literal] = m;
  const value = selector.split('.').slice(1)
    .reduce<any>((v, key) => (v !== null && typeof v === 'object' ? v[key] : undefined), event);
  if (literal.startsWith('"')) {
    const text = JSON.parse(literal) as string;
    const re = new RegExp(`^${text.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const equal = typeof value === 'string' && re.test(value);
    if (op === '=') return equal;
    if (op === '!=') return value !== undefined && !equal;
    throw new Error(`operator ${op} on a string: ${term}`);
  }
  if (typeof value !== 'number') return false;
  const n = Number(literal);
  switch (op) {
    case '=': return value === n;
    case '!=': return value !== n;
    case '>': return value > n;
    case '<': return value < n;
    case '>=': return value >= n;
    default: return value <= n;
  }
}
