import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';

/** A label in both languages of the service. */
export interface Label { zh: string; en: string }

/** One term of the taxonomy, as stored in `taxonomy/taxonomy.json`. */
export interface Term {
  id: string;
  facet: string;
  parent: string | null;
  label: Label;
  aliases: string[];
}

/** A facet groups terms of one kind (domain, theme, scenario, stage, type). */
export interface Facet { label: Label; taggable: boolean }

/** The validated, indexed taxonomy. Immutable once built. */
export interface Taxonomy {
  version: string;
  facets: Record<string, Facet>;
  /** Terms in file order. */
  terms: readonly Term[];
  byId: ReadonlyMap<string, Term>;
  children: ReadonlyMap<string, readonly string[]>;
  /** Lower-cased ids and aliases → id. */
  lookup: ReadonlyMap<string, string>;
}

/** The facets whose terms may appear in a resource's `tags` (and in tag filters). */
export const TAG_FACETS = ['domain', 'theme', 'scenario'] as const;

/** Thrown for a term that is neither an id nor an alias; carries the nearest known spellings. */
export class UnknownTermError extends Error {
  constructor(readonly term: string, readonly suggestions: string[], readonly facet?: string) {
    super(`unknown ${facet ?? 'taxonomy'} term '${term}'` +
      (suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : ''));
  }
}

/** Reads and validates the taxonomy in `dir` (taxonomy.json against schema.json); throws on any defect. */
export function loadTaxonomy(dir: string): Taxonomy {
  const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
  const doc = JSON.parse(readFileSync(join(dir, 'taxonomy.json'), 'utf8'));
  return buildTaxonomy(doc, schema);
}

/** Validates a parsed taxonomy document against its JSON Schema and the rules a schema cannot state. */
export function buildTaxonomy(doc: unknown, schema: object): Taxonomy {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(schema);
  if (!validate(doc)) {
    const why = validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`taxonomy does not match its schema: ${why}`);
  }
  const { version, facets, terms } = doc as { version: string; facets: Record<string, Facet>; terms: Term[] };

  const byId = new Map<string, Term>();
  for (const term of terms) {
    if (byId.has(term.id)) throw new Error(`taxonomy: duplicate term id '${term.id}'`);
    if (!facets[term.facet]) throw new Error(`taxonomy: term '${term.id}' names unknown facet '${term.facet}'`);
    byId.set(term.id, term);
  }
  const children = new Map<string, string[]>();
  for (const term of terms) {
    children.set(term.id, children.get(term.id) ?? []);
    if (term.parent === null) continue;
    const parent = byId.get(term.parent);
    if (!parent) throw new Error(`taxonomy: term '${term.id}' has unknown parent '${term.parent}'`);
    if (parent.facet !== term.facet) throw new Error(`taxonomy: term '${term.id}' and its parent are in different facets`);
    children.set(term.parent, [...(children.get(term.parent) ?? []), term.id]);
  }
  for (const term of terms) {
    // Walking up from every term must reach a root within the number of terms, or there is a cycle.
    let at: Term | undefined = term;
    for (let steps = 0; at && at.parent !== null; steps++) {
      if (steps > terms.length) throw new Error(`taxonomy: parent cycle through '${term.id}'`);
      at = byId.get(at.parent);
    }
  }
  const lookup = new Map<string, string>();
  for (const term of terms) {
    for (const name of [term.id, ...term.aliases]) {
      const key = name.toLowerCase();
      const other = lookup.get(key);
      if (other !== undefined && other !== term.id) {
        throw new Error(`taxonomy: '${name}' names both '${other}' and '${term.id}'`);
      }
      lookup.set(key, term.id);
    }
  }
  return { version, facets, terms, byId, children, lookup };
}

/**
 * Resolves an id or alias (case-insensitive, trimmed) to a term id. With `facets`, only terms of those
 * facets are accepted. Throws UnknownTermError naming the nearest known spellings otherwise.
 */
export function resolveTerm(tax: Taxonomy, name: string, facets?: readonly string[]): string {
  const id = tax.lookup.get(name.trim().toLowerCase());
  if (id !== undefined && (!facets || facets.includes(tax.byId.get(id)!.facet))) return id;
  throw new UnknownTermError(name, suggestTerms(tax, name, facets), facets?.join('/'));
}

/** Up to three ids or aliases closest to `name` by edit distance, best first. */
export function suggestTerms(tax: Taxonomy, name: string, facets?: readonly string[]): string[] {
  const key = name.trim().toLowerCase();
  const candidates: string[] = [];
  for (const term of tax.terms) {
    if (facets && !facets.includes(term.facet)) continue;
    candidates.push(term.id, ...term.aliases);
  }
  if (!candidates.length) return [];
  const best = closest(key, candidates);
  const ranked = candidates
    .map((c) => ({ c, d: distance(key, c.toLowerCase()) }))
    .filter(({ c, d }) => c === best || d <= Math.max(2, Math.floor(c.length / 2)))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return [...new Set(ranked.map(({ c }) => c))].slice(0, 3);
}

/** The term and all its descendants, in depth-first order. */
export function expandTerm(tax: Taxonomy, id: string): string[] {
  const out: string[] = [];
  const stack = [id];
  while (stack.length) {
    const at = stack.pop()!;
    out.push(at);
    const kids = tax.children.get(at) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
  return out;
}

/** The root of a term's tree (e.g. 'zhi' for 'zhi.aerospace'). */
export function rootOf(tax: Taxonomy, id: string): string {
  let term = tax.byId.get(id)!;
  while (term.parent !== null) term = tax.byId.get(term.parent)!;
  return term.id;
}

/** Ids of the terms of one facet, in file order. */
export function termsOfFacet(tax: Taxonomy, facet: string): string[] {
  return tax.terms.filter((t) => t.facet === facet).map((t) => t.id);
}
