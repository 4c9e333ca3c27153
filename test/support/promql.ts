/**
 * Just enough PromQL to check rule files and dashboards without Prometheus: a tokenizer that finds the
 * metric names an expression reads, and the functions and aggregations it calls, and fails on what is
 * clearly not PromQL (an unknown function, unbalanced brackets, an unterminated string, a stray
 * character). It is no full parser: a wrong operator between two valid operands goes unnoticed.
 *
 * Grafana's variables (`$pool`, `${pool}`, `$__rate_interval`) are taken as values.
 */

/** PromQL functions (Prometheus 2.x and 3.x). */
export const PROMQL_FUNCTIONS = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'cos',
  'cosh',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'deg',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'holt_winters',
  'double_exponential_smoothing',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'mad_over_time',
  'max_over_time',
  'min_over_time',
  'minute',
  'month',
  'pi',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rad',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sin',
  'sinh',
  'sort',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
  'sqrt',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'tan',
  'tanh',
  'time',
  'timestamp',
  'vector',
  'year',
]);

/** Aggregation operators. */
export const PROMQL_AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Words that are neither metric names nor functions. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', 'start', 'end']);
/** Words followed by a list of label names in parentheses. */
const LABEL_LIST = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export interface PromqlScan {
  metrics: string[];
  functions: string[];
}

export class PromqlError extends Error {}

/** The metric names and functions of `expr`; throws PromqlError when it is clearly not PromQL. */
export function scanPromql(expr: string): PromqlScan {
  const metrics = new Set<string>();
  const functions = new Set<string>();
  const stack: string[] = [];
  const fail = (why: string, at: number): never => {
    throw new PromqlError(`${why} at ${at} in: ${expr}`);
  };
  let i = 0;
  /** the next non-space character from `j` */
  const peek = (j: number): string => {
    while (j < expr.length && /\s/.test(expr[j])) j++;
    return expr[j] ?? '';
  };
  /** skips a bracketed run from the opening bracket at `j` (strings inside taken whole); returns after it */
  const skipGroup = (j: number, open: string, close: string): number => {
    let depth = 0;
    for (; j < expr.length; j++) {
      const c = expr[j];
      if (c === '"' || c === "'" || c === '`') j = skipString(j) - 1;
      else if (c === open) depth++;
      else if (c === close && --depth === 0) return j + 1;
    }
    return fail(`unclosed ${open}`, j);
  };
  const skipString = (j: number): number => {
    const q = expr[j];
    for (let k = j + 1; k < expr.length; k++) {
      if (expr[k] === '\\' && q !== '`') k++;
      else if (expr[k] === q) return k + 1;
    }
    return fail('unterminated string', j);
  };
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(i);
    } else if (c === '{') {
      // label matchers: names and values, no metric names
      i = skipGroup(i, '{', '}');
    } else if (c === '[') {
      // a range or subquery: durations and variables
      const end = skipGroup(i, '[', ']');
      if (
        !/^\[\s*(\$\{?\w+\}?|\d+[a-z]+(\d+[a-z]+)*)\s*(:\s*(\$\{?\w+\}?|\d+[a-z]+)?\s*)?\]$/.test(
          expr.slice(i, end),
        )
      )
        fail(`"${expr.slice(i, end)}" is not a range`, i);
      i = end;
    } else if (c === '(') {
      stack.push(')');
      i++;
    } else if (c === ')') {
      if (stack.pop() !== ')') fail('unbalanced )', i);
      i++;
    } else if (c === '}' || c === ']') {
      fail(`stray ${c}`, i);
    } else if (c === '$') {
      const m = /^\$(\{\w+(:\w+)?\}|\w+)/.exec(expr.slice(i));
      if (!m) fail('a $ that is no variable', i);
      i += m![0].length;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?([a-z]+[0-9]*)*)/.exec(expr.slice(i));
      if (!m || m[0] === '') fail('a bad number', i);
      i += m![0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i))![0];
      const after = i + word.length;
      i = after;
      const next = peek(after);
      if (LABEL_LIST.has(word)) {
        if (next === '(') {
          const open = expr.indexOf('(', after);
          i = skipGroup(open, '(', ')');
        } else if (word === 'by' || word === 'without' || word === 'on' || word === 'ignoring') {
          fail(`${word} without a label list`, after);
        }
      } else if (KEYWORDS.has(word.toLowerCase())) {
        // an operator or a constant
      } else if (PROMQL_AGGREGATIONS.has(word)) {
        functions.add(word);
        if (next !== '(' && !/^\s*(by|without)\b/.test(expr.slice(after))) fail(`${word} without (`, after);
      } else if (next === '(' && !word.includes(':')) {
        if (!PROMQL_FUNCTIONS.has(word)) fail(`unknown function ${word}`, after);
        functions.add(word);
      } else {
        metrics.add(word);
      }
    } else if (/[-+*/%^=!<>,@]/.test(c)) {
      i++;
    } else {
      fail(`stray character ${JSON.stringify(c)}`, i);
    }
  }
  if (stack.length > 0) fail('unclosed (', expr.length);
  return { metrics: [...metrics].sort(), functions: [...functions].sort() };
}

/**
 * The series names a Prometheus text exposition declares: every `# TYPE` name, with `_bucket`, `_sum`
 * and `_count` for a histogram and `_sum`, `_count` for a summary (a counter's name already ends in
 * `_total` with prom-client), and every sample's name.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}
