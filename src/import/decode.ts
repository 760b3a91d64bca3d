import { AppError } from '../errors.js';

export type Encoding = 'auto' | 'utf8' | 'gb18030';

const SAMPLE_BYTES = 64 * 1024;

/**
 * Decodes a byte stream to text. `auto` looks at the first 64 KiB: a UTF-8 BOM or valid UTF-8 means UTF-8,
 * anything else GB18030 (what Excel on a Chinese Windows writes as "CSV"). Decoding is fatal: a byte
 * sequence invalid in the chosen encoding rejects the file rather than importing mojibake.
 */
export async function* decode(
  input: AsyncIterable<Buffer | string>, encoding: Encoding, chosen: (e: 'utf8' | 'gb18030') => void,
  onProgress?: (bytes: number) => void,
): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let head: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  const start = (sample: Buffer) => {
    const name = encoding === 'auto' ? sniff(sample) : encoding;
    chosen(name);
    decoder = new TextDecoder(name === 'utf8' ? 'utf-8' : 'gb18030', { fatal: true });
  };
  const run = (chunk: Buffer, final: boolean) => {
    try {
      return decoder!.decode(chunk, { stream: !final });
    } catch (e) {
      throw new AppError('invalid_csv', `the file is not valid ${decoder!.encoding} (within bytes ${bytes - chunk.length}–${bytes}); choose encoding=utf8 or gb18030`,
        { errors: [{ path: 'encoding', message: `bytes are not valid ${decoder!.encoding}` }], cause: e });
    }
  };
  for await (const part of input) {
    const chunk = typeof part === 'string' ? Buffer.from(part) : part;
    bytes += chunk.length;
    onProgress?.(bytes);
    if (!decoder) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < SAMPLE_BYTES) continue;
      const sample = Buffer.concat(head);
      head = [];
      start(sample);
      yield run(sample, false);
      continue;
    }
    yield run(chunk, false);
  }
  if (!decoder) {
    const sample = Buffer.concat(head);
    start(sample);
    yield run(sample, true);
  } else {
    yield run(Buffer.alloc(0), true);
  }
}

/** UTF-8 when the sample has a UTF-8 BOM or decodes as UTF-8 (a cut trailing character allowed); else GB18030. */
export function sniff(sample: Buffer): 'utf8' | 'gb18030' {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf8';
  } catch {
    return 'gb18030';
  }
}
