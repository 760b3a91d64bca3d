import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTaxonomy, expandTerm, loadTaxonomy, resolveTerm, UnknownTermError } from '../src/taxonomy/taxonomy.js';
import { ROOT } from './support.js';

const dir = join(ROOT, 'taxonomy');
const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
const doc = () => JSON.parse(readFileSync(join(dir, 'taxonomy.json'), 'utf8'));
const tax = loadTaxonomy(dir);

describe('the bundled taxonomy', () => {
  test('validates against its schema, with the five roots each holding at least four children', () => {
    for (const root of ['de', 'zhi', 'ti', 'mei', 'lao']) {
      expect(tax.byId.get(root)!.parent).toBeNull();
      expect(tax.children.get(root)!.length).toBeGreaterThanOrEqual(4);
    }
    expect(tax.version).toMatch(/^\d{4}\.\d+\.\d+$/);
    for (const facet of ['theme', 'scenario', 'stage', 'type']) expect(tax.terms.some((t) => t.facet === facet)).toBe(true);
  });

  test('aliases resolve to ids, case- and space-insensitively', () => {
    expect(resolveTerm(tax, '德育')).toBe('de');
    expect(resolveTerm(tax, ' 科学教育 ')).toBe('zhi.science');
    expect(resolveTerm(tax, 'STEM')).toBe('zhi.tech');
    expect(resolveTerm(tax, 'ZHI.SCIENCE')).toBe('zhi.science');
    expect(resolveTerm(tax, '古都')).toBe('theme.gudu');
  });

  test('a facet restriction rejects terms of other facets', () => {
    expect(() => resolveTerm(tax, 'museum', ['domain'])).toThrow(UnknownTermError);
    expect(resolveTerm(tax, 'museum', ['type'])).toBe('museum');
  });

  test('an unknown term suggests the nearest known ones', () => {
    try {
      resolveTerm(tax, 'sciense');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownTermError);
      expect((e as UnknownTermError).suggestions[0]).toBe('zhi.science');
    }
  });

  test('expand gives a term and all its descendants', () => {
    expect(expandTerm(tax, 'zhi.tech')).toEqual(['zhi.tech', 'zhi.aerospace']);
    expect(expandTerm(tax, 'zhi')).toEqual(expect.arrayContaining(['zhi', 'zhi.science', 'zhi.tech', 'zhi.aerospace']));
    expect(expandTerm(tax, 'zhi.science')).toEqual(['zhi.science']);
  });
});

describe('a defective taxonomy is refused at start', () => {
  test.each([
    ['a term without a label', (d: any) => delete d.terms[0].label, /schema/],
    ['a bad version', (d: any) => (d.version = 'v1'), /schema/],
    ['a duplicate id', (d: any) => d.terms.push({ ...d.terms[0] }), /duplicate term id 'de'/],
    ['an alias naming two terms', (d: any) => d.terms[1].aliases.push('智育'), /'智育' names both/],
    ['an unknown parent', (d: any) => (d.terms[1].parent = 'nope'), /unknown parent 'nope'/],
    ['a parent in another facet', (d: any) => (d.terms.find((t: any) => t.id === 'theme.red').parent = 'de'), /different facets/],
    ['a cycle', (d: any) => { d.terms.find((t: any) => t.id === 'zhi').parent = 'zhi.aerospace'; }, /cycle/],
    ['an unknown facet', (d: any) => (d.terms[0].facet = 'colour'), /unknown facet/],
  ])('%s', (_name, breakIt, message) => {
    const broken = doc();
    breakIt(broken);
    expect(() => buildTaxonomy(broken, schema)).toThrow(message);
  });

  test('buildTaxonomy does not mutate its input', () => {
    const input = doc();
    const copy = structuredClone(input);
    buildTaxonomy(input, schema);
    expect(input).toEqual(copy);
  });
});
