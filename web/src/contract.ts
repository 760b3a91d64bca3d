/**
 * What this server offers, read from its own `/openapi.yaml`, so the page uses an endpoint or parameter
 * only when the running service has it (booking and matching arrive in later releases than the map).
 */
export interface Features {
  /** `GET /v1/resources` takes `available_from`/`available_to`/`seats`. */
  availabilitySearch: boolean;
  /** `GET /v1/clusters` takes them too. */
  availabilityClusters: boolean;
  /** Slots and bookings. */
  booking: boolean;
  /** `POST /v1/match`. */
  match: boolean;
  /** `GET /v1/resources/{id}/booking-rules` without a key. */
  rules: boolean;
  /** `POST /v1/waitlist`. */
  waitlist: boolean;
}

/** Splits the document into its `paths` entries (two-space indented keys such as `  /v1/clusters:`). */
function pathBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const start = text.indexOf('\npaths:\n');
  const end = text.indexOf('\ncomponents:\n');
  const body = text.slice(start < 0 ? 0 : start, end < 0 ? undefined : end);
  let name = '';
  for (const line of body.split('\n')) {
    const m = /^ {2}(\/\S*):\s*$/.exec(line);
    if (m) name = m[1];
    else if (name) blocks.set(name, (blocks.get(name) ?? '') + line + '\n');
  }
  return blocks;
}

/** Reads the features from the text of `openapi.yaml`. */
export function featuresOf(text: string): Features {
  const paths = pathBlocks(text);
  const has = (path: string, param?: string) => paths.has(path) && (!param || new RegExp(`name:\\s*${param}\\b`).test(paths.get(path)!));
  return {
    availabilitySearch: has('/v1/resources', 'available_from'),
    availabilityClusters: has('/v1/clusters', 'available_from'),
    booking: has('/v1/bookings') && has('/v1/resources/{id}/slots'),
    match: has('/v1/match'),
    rules: has('/v1/resources/{id}/booking-rules') && /security: \[\{\}/.test(paths.get('/v1/resources/{id}/booking-rules')!),
    waitlist: has('/v1/waitlist'),
  };
}
