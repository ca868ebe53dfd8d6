import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ApiProblem } from './problem.js';

/**
 * Request bodies come from outside and share the event loop with `/healthz`, the dashboard and
 * webhook deliveries. `JSON.parse` of a 16 MiB body, a hash of it or a loop over 400,000 ids each
 * hold the loop for hundreds of ms on a busy host, and a body nested millions deep more. So every
 * step over a body runs in slices that give the loop a turn after `SLICE_MS`, and nesting is
 * refused before anything is built from it.
 */
export interface BodyLimits {
  maxDepth: number;
  maxStringChars: number;
  maxLineChars: number;
  maxLines: number;
}

export const BODY_LIMITS: Readonly<BodyLimits> = {
  /** Deepest nesting of arrays and objects any API body may have (the deepest route uses 3). */
  maxDepth: 32,
  /** Longest JSON string (a comment is at most 1,000 characters, a query 4,000). */
  maxStringChars: 64 * 1024,
  /** Longest NDJSON line in bytes (a device line is about 60). */
  maxLineChars: 64 * 1024,
  /** Most NDJSON lines: 16 MiB of 40-hex ids is about 390,000. */
  maxLines: 1_000_000,
};

/** How long one slice of work may hold the event loop before it yields (ms). */
export const SLICE_MS = 4;

/** `await pause()` inside a loop: yields to the event loop once the slice has run `SLICE_MS`. */
export type Pause = () => Promise<void>;

export function createPause(sliceMs = SLICE_MS): Pause {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await nextTurn();
    since = performance.now();
  };
}

const invalid = (detail: string) => new ApiProblem('invalid-request', detail);

/** The body as text (UTF-8), decoded chunk by chunk; a character split between chunks is kept whole. */
export async function decodeBody(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  pause: Pause = createPause(),
): Promise<string> {
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  for await (const chunk of chunks) {
    parts.push(decoder.write(chunk));
    await pause();
  }
  parts.push(decoder.end());
  return parts.join('');
}

type Frame =
  | { kind: 'array'; value: unknown[] }
  | { kind: 'object'; value: Record<string, unknown>; key: string | null };

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Check the clock this often (tokens): performance.now() per token would cost more than the work. */
const TOKENS_PER_CHECK = 512;

/**
 * `JSON.parse` with limits, in slices: nesting deeper than `maxDepth` or a string longer than
 * `maxStringChars` is refused where it starts, before the rest is read. Strings and numbers are
 * decoded by `JSON.parse` itself (small slices), so the values are exactly JSON's.
 */
export async function parseJsonBounded(
  text: string,
  limits: { maxDepth: number; maxStringChars: number } = BODY_LIMITS,
  pause: Pause = createPause(),
): Promise<unknown> {
  const parser = new SliceParser(text, limits);
  while (!parser.run(TOKENS_PER_CHECK)) await pause();
  return parser.result();
}

/** The same parser without yielding, for input already bounded in size (one NDJSON line). */
export function parseJsonLine(text: string, limits = BODY_LIMITS): unknown {
  const parser = new SliceParser(text, limits);
  while (!parser.run(Number.POSITIVE_INFINITY));
  return parser.result();
}

class SliceParser {
  private i = 0;
  private readonly stack: Frame[] = [];
  private root: { value: unknown } | null = null;
  /** After `[` or `{` (a closer may come at once) or after `,` / `:` (a value must come). */
  private expect: 'value' | 'value-or-close' | 'key-or-close' | 'key' | 'after' = 'value';
  private readonly text: string;
  private readonly limits: { maxDepth: number; maxStringChars: number };

  constructor(text: string, limits: { maxDepth: number; maxStringChars: number }) {
    this.text = text;
    this.limits = limits;
  }

  /** Reads up to `tokens` tokens; true once the whole text is read. */
  run(tokens: number): boolean {
    for (let n = 0; n < tokens; n += 1) {
      this.skipWhitespace();
      if (this.root !== null && this.stack.length === 0) {
        if (this.i < this.text.length) throw this.fail('unexpected content after the JSON value');
        return true;
      }
      this.step();
    }
    return false;
  }

  result(): unknown {
    if (this.root === null) throw invalid('The body is not valid JSON (empty)');
    return this.root.value;
  }

  private fail(what: string): ApiProblem {
    return invalid(`The body is not valid JSON: ${what} at character ${String(this.i)}`);
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.i;
    WHITESPACE.test(this.text);
    this.i = WHITESPACE.lastIndex;
  }

  private step(): void {
    const c = this.text[this.i];
    if (c === undefined) throw this.fail('unexpected end');
    const top = this.stack.at(-1);
    if (this.expect === 'after') {
      if (top === undefined) throw this.fail('unexpected content');
      const closer = top.kind === 'array' ? ']' : '}';
      this.i += 1;
      if (c === ',') this.expect = top.kind === 'array' ? 'value' : 'key';
      else if (c === closer) this.close();
      else throw this.fail(`expected , or ${closer}`);
      return;
    }
    if (this.expect === 'key' || this.expect === 'key-or-close') {
      if (c === '}' && this.expect === 'key-or-close') {
        this.i += 1;
        this.close();
        return;
      }
      if (c !== '"' || top?.kind !== 'object') throw this.fail('expected a property name');
      top.key = this.readString();
      this.skipWhitespace();
      if (this.text[this.i] !== ':') throw this.fail('expected :');
      this.i += 1;
      this.expect = 'value';
      return;
    }
    if (c === ']' && this.expect === 'value-or-close') {
      this.i += 1;
      this.close();
      return;
    }
    if (c === '{' || c === '[') {
      if (this.stack.length >= this.limits.maxDepth) {
        throw invalid(
          `The body nests deeper than ${String(this.limits.maxDepth)} levels (at character ${String(this.i)})`,
        );
      }
      this.i += 1;
      if (c === '{') {
        this.stack.push({ kind: 'object', value: {}, key: null });
        this.expect = 'key-or-close';
      } else {
        this.stack.push({ kind: 'array', value: [] });
        this.expect = 'value-or-close';
      }
      return;
    }
    this.attach(this.readScalar(c));
  }

  private readScalar(c: string): unknown {
    if (c === '"') return this.readString();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (match === null) throw this.fail(`unexpected ${JSON.stringify(c)}`);
    this.i = NUMBER.lastIndex;
    return Number(match[0]);
  }

  /** A string token, decoded by JSON.parse (escapes, control characters refused as JSON does). */
  private readString(): string {
    let end = this.i + 1;
    for (;;) {
      const quote = this.text.indexOf('"', end);
      if (quote < 0) throw this.fail('unterminated string');
      let backslashes = 0;
      while (this.text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes += 1;
      end = quote + 1;
      if (backslashes % 2 === 0) break;
      if (end - this.i > this.limits.maxStringChars + 2) break;
    }
    if (end - this.i > this.limits.maxStringChars + 2) {
      throw invalid(
        `The body has a string longer than ${String(this.limits.maxStringChars)} characters (at character ${String(this.i)})`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(this.text.slice(this.i, end));
    } catch {
      throw this.fail('invalid string');
    }
    this.i = end;
    return value as string;
  }

  private close(): void {
    const frame = this.stack.pop();
    if (frame === undefined) throw this.fail('unexpected closer');
    this.attach(frame.value);
  }

  private attach(value: unknown): void {
    const top = this.stack.at(-1);
    this.expect = 'after';
    if (top === undefined) {
      this.root = { value };
      return;
    }
    if (top.kind === 'array') {
      top.value.push(value);
      return;
    }
    const key = top.key ?? '';
    // A `__proto__` key is an own property, as JSON.parse makes it, never the prototype.
    Object.defineProperty(top.value, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}
