import { StringDecoder } from 'node:string_decoder';
import { DeviceFileError } from './errors.js';
import { entryFromJsonText, type ByteSource, type EntryContext, type RawEntry } from './entries.js';

/** An array element larger than this cannot be a device record: refuse rather than buffer it. */
export const MAX_ELEMENT_CHARS = 1 << 20;

type Where = 'before' | 'between' | 'element' | 'after';

/**
 * A JSON array, streamed element by element: only the element being read is held in memory, so
 * arrays of millions of ids are fine. Each element is parsed on its own with `JSON.parse`; an
 * element that is not valid JSON is reported at the line where it starts, the rest go on.
 */
export async function* jsonArrayEntries(
  bytes: ByteSource,
  context: EntryContext,
): AsyncIterable<RawEntry> {
  const malformed = (line: number, problem: string) =>
    new DeviceFileError({ code: 'malformed', file: context.file, line, problem });
  const decoder = new StringDecoder('utf8');
  let where = 'before' as Where;
  let line = 1;
  let element = '';
  let elementLine = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;

  for await (const chunk of bytes) {
    const text = decoder.write(chunk);
    let start = 0; // where the current element's text begins inside `text`
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i];
      if (where === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth += 1;
        else if (c === '}' || c === ']') depth -= 1;
        // A top-level element ends at the `,` or `]` after it (depth -1 means this `]` closed the array).
        if (!inString && (depth < 0 || (depth === 0 && c === ','))) {
          element += text.slice(start, i);
          yield entryFromJsonText(elementLine, element.trim(), context.column);
          element = '';
          where = depth < 0 ? 'after' : 'between';
          depth = 0;
        }
      } else if (c === '\n' || c === ' ' || c === '\t' || c === '\r') {
        // whitespace between tokens
      } else if (where === 'before') {
        if (c !== '[') throw malformed(line, 'expected a JSON array');
        where = 'between';
      } else if (where === 'between') {
        if (c === ']') where = 'after';
        else if (c !== ',') {
          [where, elementLine, start, depth, inString, escaped] = [
            'element',
            line,
            i,
            0,
            false,
            false,
          ];
          i -= 1; // read this character again as part of the element
        }
      } else {
        throw malformed(line, 'unexpected content after the JSON array');
      }
      if (c === '\n') line += 1;
    }
    if (where === 'element') {
      element += text.slice(start);
      if (element.length > MAX_ELEMENT_CHARS) {
        throw malformed(elementLine, `array element longer than ${MAX_ELEMENT_CHARS} characters`);
      }
    }
  }
  if (where !== 'after') throw malformed(line, 'the JSON array is not closed');
}
