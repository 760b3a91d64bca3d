import { t, type Key } from './i18n.js';

/** Elements whose text or attribute is a UI string: refreshed in place when the language changes. */
const bound: { el: Element; key: Key; attr?: string }[] = [];

/** Sets `el`'s text (or `attr`) to the UI string `key`, now and after every language switch. */
export function bind<E extends Element>(el: E, key: Key, attr?: string): E {
  bound.push({ el, key, attr });
  apply(bound[bound.length - 1]);
  return el;
}

/** Re-applies every bound string (after `setLang`). */
export function refreshBound(): void {
  for (const b of bound) apply(b);
}

function apply({ el, key, attr }: { el: Element; key: Key; attr?: string }): void {
  if (attr) el.setAttribute(attr, t(key));
  else el.textContent = t(key);
}
