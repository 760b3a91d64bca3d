import type { ErrorObject } from 'ajv';
import type { FieldError } from './errors.js';

/** What every date field's complaint says, wherever a `YYYY-MM-DD` date is asked for. */
export const DATE_MESSAGE = 'must be a date written YYYY-MM-DD, such as 2027-02-06';

/**
 * ajv errors as `{ path, message }`: the one translation the contract (request validation) and the
 * domain's own schemas (calendar year files) share. Paths read like `query.limit`, `body.slots[0].start`
 * or, with `root` empty, `holidays[1].to`; messages say what to write. `root` `query` calls an unknown
 * member a parameter, anything else a field. `explain` may word a keyword of its own (it gets the error
 * and its path; undefined keeps the default). Each path and message is answered once.
 */
export function fieldErrorsOf(errors: readonly ErrorObject[], root = '', explain?: (e: ErrorObject, path: string) => string | undefined): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let path = join(root, e.instancePath.split('/').slice(1).map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join(''));
    let message: string;
    if (e.keyword === 'additionalProperties') {
      path = join(path, `.${e.params.additionalProperty}`);
      message = root === 'query' ? 'is not a known parameter' : 'is not a known field';
    } else if (e.keyword === 'required') {
      path = join(path, `.${e.params.missingProperty}`);
      message = 'is required';
    } else {
      message = explain?.(e, path) ?? defaultMessage(e);
    }
    const key = `${path} ${message}`;
    if (!seen.has(key)) out.push({ path, message });
    seen.add(key);
  }
  return out;
}

function defaultMessage(e: ErrorObject): string {
  if (e.keyword === 'enum') return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'format' && e.params.format === 'date') return DATE_MESSAGE;
  return e.message ?? 'is invalid';
}

/** `a` then `b` (which begins with `.` or `[`), without a leading dot when `a` is empty. */
function join(a: string, b: string): string {
  return a ? a + b : b.replace(/^\./, '');
}
