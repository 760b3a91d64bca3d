import { formatShanghai } from '../time.js';

/**
 * Identity numbers a real-name booking carries, checked fully before anything is hashed: the resident ID
 * (居民身份证号码, GB 11643-1999) and the unified social credit code of an organisation (统一社会信用代码,
 * GB 32100-2015). Neither function echoes its input in any message.
 */

/** First two digits of a resident ID: the provinces, plus 71 (Taiwan) and 81–83 (residence permits of HK, Macao, Taiwan residents). */
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43',
  '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83']);
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/**
 * An 18-character resident ID number, upper-cased (a lowercase x is accepted), when its region code has a
 * real province prefix, its birth date is a real date from 1900 on and not after today (Asia/Shanghai, as
 * of `nowMs`), and its check character fits; undefined otherwise.
 */
export function normalizeResidentId(text: string, nowMs: number = Date.now()): string | undefined {
  const id = text.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return undefined;
  if (!PROVINCES.has(id.slice(0, 2)) || id.slice(2, 6) === '0000') return undefined;
  const [y, m, d] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)].map(Number);
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return undefined;
  if (id.slice(6, 14) > formatShanghai(new Date(nowMs)).slice(0, 10).replace(/-/g, '')) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11] === id[17] ? id : undefined;
}

/** The 31 characters of GB 32100-2015 (no I, O, S, V, Z), in the order of their values. */
const ORG_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const ORG_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * An 18-character unified social credit code, upper-cased, when it has the standard's shape (a registering
 * authority and an organisation type, a 6-digit region code, a 9-character organisation code) and its
 * check character fits; undefined otherwise.
 */
export function normalizeOrgCode(text: string): string | undefined {
  const code = text.trim().toUpperCase();
  if (!/^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$/.test(code)) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ORG_CHARS.indexOf(code[i]) * ORG_WEIGHTS[i];
  return ORG_CHARS[(31 - (sum % 31)) % 31] === code[17] ? code : undefined;
}
