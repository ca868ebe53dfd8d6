/**
 * A strict subset of OData `$filter`, as far as mde-api.md documents it: comparisons of one
 * field with one literal, `startswith(field,'x')` on fields that allow it,
 * `machineTags/any(tag: tag eq 'X')`, `and`, `or` and parentheses. Property names match
 * case-insensitively (real clients send `CreationDateTimeUtc`: MDEAutomator's
 * `Get-Actions`). Anything else (unknown field, unsupported operator, wrong literal type, unknown
 * enum value, `not`, other functions) is refused with an `ODataFilterError`, which the API
 * answers as 400 ODataError.
 */

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FieldValue = string | number | readonly string[] | null | undefined;

export interface FieldSpec<T> {
  type: 'string' | 'number' | 'datetime' | 'collection';
  /** Operators allowed on this field (`collection` fields only support `any(x: x eq '…')`). */
  ops: readonly ComparisonOperator[];
  /** For string fields with a closed set of values: anything else is an error. */
  values?: readonly string[];
  /** Whether `startswith(field,'…')` applies (string fields only). */
  startsWith?: boolean;
  /** Reads the value; datetimes as ms since the epoch. */
  get(record: T): FieldValue;
}
export type FilterSchema<T> = Readonly<Record<string, FieldSpec<T>>>;
export type Predicate<T> = (record: T) => boolean;

export class ODataFilterError extends Error {
  override name = 'ODataFilterError';
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'datetime'; value: number; text: string }
  | { kind: 'punct'; text: '(' | ')' | '/' | ':' | ',' };

/**
 * An OData v4 DateTimeOffset literal, unquoted (ABNF `dateTimeOffsetValue`): date, `T`, hours and
 * minutes, optional seconds and 1–12 fraction digits, then `Z` or an offset. A bare date is an
 * Edm.Date, not a DateTimeOffset, and a quoted one is an Edm.String: both are refused.
 */
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(?:Z|([+-])(\d{2}):(\d{2}))(?![\w.:])/;
/** Something that starts like a date but is not a whole DateTimeOffset literal. */
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}[\w.:+-]*/;

/** Ms since the epoch of a DATETIME match, or NaN when a part is out of range (Feb 30, 24:00). */
function dateTimeValue(m: RegExpExecArray): number {
  const n = (i: number): number => Number(m[i] ?? '0');
  const [year, month, day, hour, minute, second] = [n(1), n(2), n(3), n(4), n(5), n(6)];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetMinutes = (m[8] === '-' ? -1 : 1) * (n(9) * 60 + n(10));
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    n(9) > 23 ||
    n(10) > 59
  ) {
    return Number.NaN;
  }
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text.charAt(i);
    if (ch === ' ') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '/' || ch === ':' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new ODataFilterError('Unterminated string literal');
        if (text.charAt(j) === "'") {
          if (text.charAt(j + 1) === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text.charAt(j);
        j++;
      }
      tokens.push({ kind: 'string', value });
      i = j + 1;
    } else if (DATE_LIKE.test(rest)) {
      const m = DATETIME.exec(rest);
      const value = m ? dateTimeValue(m) : Number.NaN;
      if (!m || !Number.isFinite(value)) {
        const shown = (DATE_LIKE.exec(rest)?.[0] ?? rest).slice(0, 40);
        throw new ODataFilterError(
          `Invalid DateTimeOffset literal ${shown}: expected e.g. 2026-11-01T00:00:00Z, unquoted`,
        );
      }
      tokens.push({ kind: 'datetime', value, text: m[0] });
      i += m[0].length;
    } else if (/^-?\d/.test(rest)) {
      const match = /^-?\d+(?:\.\d+)?/.exec(rest)?.[0] ?? '';
      tokens.push({ kind: 'number', value: Number(match) });
      i += match.length;
    } else if (/^[A-Za-z_]/.test(rest)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0] ?? '';
      tokens.push({ kind: 'word', text: match });
      i += match.length;
    } else {
      throw new ODataFilterError(`Syntax error at position ${i} in $filter`);
    }
  }
  return tokens;
}

/** Parses `text` against `schema` once; the predicate is then applied to every record. */
export function compileFilter<T>(text: string, schema: FilterSchema<T>): Predicate<T> {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, word: string): boolean =>
    t?.kind === 'word' && t.text === word;
  const expectPunct = (p: string): void => {
    const t = tokens[pos++];
    if (t?.kind !== 'punct' || t.text !== p)
      throw new ODataFilterError(`Expected '${p}' in $filter`);
  };
  const field = (name: string): FieldSpec<T> => fieldOf(schema, name, '$filter');

  const parseOr = (): Predicate<T> => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      pos++;
      const a = left;
      const b = parseAnd();
      left = (r) => a(r) || b(r);
    }
    return left;
  };
  const parseAnd = (): Predicate<T> => {
    let left = parseTerm();
    while (isWord(peek(), 'and')) {
      pos++;
      const a = left;
      const b = parseTerm();
      left = (r) => a(r) && b(r);
    }
    return left;
  };
  const parseTerm = (): Predicate<T> => {
    const t = tokens[pos++];
    if (t?.kind === 'punct' && t.text === '(') {
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    if (t?.kind !== 'word') throw new ODataFilterError('Expected a property name in $filter');
    if (t.text === 'startswith' && peek()?.kind === 'punct') return parseStartsWith();
    const spec = field(t.text);
    if (spec.type === 'collection') return parseAny(spec);
    const op = tokens[pos++];
    if (op?.kind !== 'word' || !spec.ops.includes(op.text as ComparisonOperator)) {
      const shown = op?.kind === 'word' ? op.text : 'nothing';
      throw new ODataFilterError(`Operator '${shown}' is not supported on '${t.text}'`);
    }
    const literal = literalFor(t.text, spec, tokens[pos++]);
    return comparison(spec, op.text as ComparisonOperator, literal);
  };
  const parseStartsWith = (): Predicate<T> => {
    expectPunct('(');
    const name = tokens[pos++];
    if (name?.kind !== 'word')
      throw new ODataFilterError('Expected a property name in startswith()');
    const spec = field(name.text);
    if (spec.type !== 'string' || spec.startsWith !== true)
      throw new ODataFilterError(`startswith() is not supported on '${name.text}'`);
    expectPunct(',');
    const prefix = tokens[pos++];
    if (prefix?.kind !== 'string')
      throw new ODataFilterError('Expected a string literal in startswith()');
    expectPunct(')');
    // Case-sensitive, as `eq` is here: whether the API folds case is not documented.
    return (r) => {
      const v = spec.get(r);
      return typeof v === 'string' && v.startsWith(prefix.value);
    };
  };
  const parseAny = (spec: FieldSpec<T>): Predicate<T> => {
    expectPunct('/');
    if (!isWord(tokens[pos++], 'any')) throw new ODataFilterError("Only '/any(...)' is supported");
    expectPunct('(');
    const variable = tokens[pos++];
    if (variable?.kind !== 'word') throw new ODataFilterError('Expected a lambda variable');
    expectPunct(':');
    if (!isWord(tokens[pos++], variable.text)) {
      throw new ODataFilterError(`Expected '${variable.text}' inside any()`);
    }
    if (!isWord(tokens[pos++], 'eq'))
      throw new ODataFilterError("Only 'eq' is supported inside any()");
    const value = tokens[pos++];
    if (value?.kind !== 'string')
      throw new ODataFilterError('Expected a string literal inside any()');
    expectPunct(')');
    return (r) => {
      const v = spec.get(r);
      return Array.isArray(v) && v.includes(value.value);
    };
  };

  if (tokens.length === 0) throw new ODataFilterError('Empty $filter');
  const predicate = parseOr();
  if (pos !== tokens.length) throw new ODataFilterError('Unexpected text at the end of $filter');
  return predicate;
}

/** The field named `name`, matched case-insensitively, or an error naming the option. */
export function fieldOf<T>(schema: FilterSchema<T>, name: string, option: string): FieldSpec<T> {
  const key = Object.keys(schema).find((k) => k.toLowerCase() === name.toLowerCase());
  const spec = key === undefined ? undefined : schema[key];
  if (!spec)
    throw new ODataFilterError(`Could not find a property named '${name}' usable in ${option}`);
  return spec;
}

function literalFor<T>(name: string, spec: FieldSpec<T>, t: Token | undefined): string | number {
  if (spec.type === 'string' && t?.kind === 'string') {
    if (spec.values && !spec.values.includes(t.value)) {
      throw new ODataFilterError(`'${t.value}' is not a valid value of '${name}'`);
    }
    return t.value;
  }
  if (spec.type === 'number' && t?.kind === 'number') return t.value;
  if (spec.type === 'datetime' && t?.kind === 'datetime') return t.value;
  if (spec.type === 'datetime' && t?.kind === 'string') {
    throw new ODataFilterError(
      `'${name}' is an Edm.DateTimeOffset: write its literal unquoted (e.g. 2026-11-01T00:00:00Z)`,
    );
  }
  throw new ODataFilterError(
    `A binary operator with incompatible types was detected for '${name}'`,
  );
}

function comparison<T>(
  spec: FieldSpec<T>,
  op: ComparisonOperator,
  literal: string | number,
): Predicate<T> {
  return (r) => {
    const v = spec.get(r);
    if (v === null || v === undefined || Array.isArray(v)) return op === 'ne';
    switch (op) {
      case 'eq':
        return v === literal;
      case 'ne':
        return v !== literal;
      case 'gt':
        return v > literal;
      case 'ge':
        return v >= literal;
      case 'lt':
        return v < literal;
      case 'le':
        return v <= literal;
    }
  };
}
