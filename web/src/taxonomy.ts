import type { Taxonomy, Term } from './api.js';
import { lang, t } from './i18n.js';

/** The five 五育 roots, in their customary order. */
export const DOMAINS = ['de', 'zhi', 'ti', 'mei', 'lao'] as const;
export type Domain = (typeof DOMAINS)[number];

/** Marker and chip colours per domain (white text on each is at least 4.5:1), and for resources without one. */
export const DOMAIN_COLOURS: Record<Domain | 'none', string> = {
  de: '#c0392b', // 德 red
  zhi: '#1f6fb2', // 智 blue
  ti: '#1e7d4b', // 体 green
  mei: '#8e44ad', // 美 purple
  lao: '#9c5a00', // 劳 earth brown
  none: '#6b7785',
};

/** Short names on the chips: 德育 智育 体育 美育 劳育. */
const SHORT: Record<Domain, { zh: string; en: string }> = {
  de: { zh: '德育', en: 'Moral' },
  zhi: { zh: '智育', en: 'Intellect' },
  ti: { zh: '体育', en: 'Physical' },
  mei: { zh: '美育', en: 'Arts' },
  lao: { zh: '劳育', en: 'Labour' },
};

/** The taxonomy as the page reads it: labels in either language, roots of terms. */
export class Terms {
  private readonly byId: Map<string, Term>;

  constructor(readonly tax: Taxonomy) {
    this.byId = new Map(tax.terms.map((term) => [term.id, term]));
  }

  /** A term's label in the current language; the id itself when the taxonomy has no such term. */
  label(id: string): string {
    return this.byId.get(id)?.label[lang()] ?? id;
  }

  /** The root of a term's tree: `zhi` for `zhi.aerospace`. */
  root(id: string): string {
    let term = this.byId.get(id);
    while (term?.parent) term = this.byId.get(term.parent);
    return term?.id ?? id;
  }

  /** The primary 五育 domain of a resource: the root of the first domain term in its tags. */
  primaryDomain(tags: readonly string[]): Domain | 'none' {
    for (const tag of tags) {
      if (this.byId.get(tag)?.facet !== 'domain') continue;
      const root = this.root(tag);
      if ((DOMAINS as readonly string[]).includes(root)) return root as Domain;
    }
    return 'none';
  }

  /** Whether any of the tags is `domain` or one of its descendants. */
  hasDomain(tags: readonly string[], domain: string): boolean {
    return tags.some((tag) => this.root(tag) === domain);
  }

  /** Terms of a facet with no parent (e.g. the school stages), in taxonomy order. */
  roots(facet: string): Term[] {
    return this.tax.terms.filter((term) => term.facet === facet && term.parent === null);
  }
}

/** A domain's chip name in the current language. */
export function domainName(d: Domain | 'none'): string {
  return d === 'none' ? t('otherDomain') : SHORT[d][lang()];
}
