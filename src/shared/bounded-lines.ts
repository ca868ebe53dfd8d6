const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines (LF; a CR before it is kept), holding at most one partial
 * line: a line longer than `maxLineBytes` throws `tooLong(lineNumber)` as soon as it is seen,
 * however much more of it would follow (a small gzip can inflate to gigabytes of one line).
 * Cut on bytes, so a UTF-8 character is never split (0x0a never occurs inside one). Yields every
 * line, blank ones too, numbered from 1; a last line without a newline is yielded if not empty.
 */
export async function* boundedLines(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  maxLineBytes: number,
  tooLong: (line: number) => Error,
): AsyncIterable<{ number: number; text: string }> {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let number = 1;
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      partialBytes += end - start;
      if (partialBytes > maxLineBytes) throw tooLong(number);
      partial.push(chunk.subarray(start, end));
      const text =
        partial.length === 1
          ? (partial[0] ?? chunk).toString('utf8')
          : Buffer.concat(partial).toString('utf8');
      yield { number, text };
      [partial, partialBytes, start, number] = [[], 0, end + 1, number + 1];
    }
    partialBytes += chunk.length - start;
    if (partialBytes > maxLineBytes) throw tooLong(number);
    if (start < chunk.length) partial.push(chunk.subarray(start));
  }
  const rest = Buffer.concat(partial).toString('utf8');
  if (rest !== '') yield { number, text: rest };
}
