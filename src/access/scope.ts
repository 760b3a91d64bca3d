import { AppError } from '../errors.js';
import type { Principal } from './keys.js';

/**
 * What each role may write (DESIGN, "Keys and roles"): an operator everything; a district key the
 * resources, slots and areas inside its districts; a venue key the slots, booking rules, roster, check-in
 * and no-shows of its own resources. A write outside is a 403 `out_of_scope`.
 */

/** Why a resource in `district` is outside the principal's data scope, or null when it is inside. */
export function resourceOutside(p: Principal, district: string): string | null {
  if (p.role === 'operator') return null;
  if (p.role === 'venue') return 'a venue key cannot change resources; ask the district bureau or an operator';
  return p.districts.has(district) ? null : `the resource lies in ${district}, outside this key's districts (${[...p.districts].join(', ')})`;
}

/** A 403 unless the principal may change (import, edit, delete) a resource in `district`. */
export function assertResource(p: Principal, district: string): void {
  const why = resourceOutside(p, district);
  if (why) throw new AppError('out_of_scope', why);
}

/**
 * A 403 unless the principal may run the seats of a resource (slots, schedules, booking rules, roster,
 * check-in): an operator, the district key of its district, or a venue key listing it.
 */
export function assertSeats(p: Principal, resource: { id: string; district: string }): void {
  if (p.role === 'operator') return;
  if (p.role === 'district' && p.districts.has(resource.district)) return;
  if (p.role === 'venue' && p.resources.has(resource.id)) return;
  throw new AppError('out_of_scope', p.role === 'venue'
    ? `resource '${resource.id}' is not one of this venue key's resources`
    : `resource '${resource.id}' lies in ${resource.district}, outside this key's districts`);
}

/** A 403 unless the principal may create or delete an area (a school district) inside the district `parent`. */
export function assertArea(p: Principal, parent: string | null): void {
  if (p.role === 'operator') return;
  if (p.role === 'district' && parent !== null && p.districts.has(parent)) return;
  throw new AppError('out_of_scope', p.role === 'venue'
    ? 'a venue key cannot change areas'
    : `the area's district ${parent ?? '(none)'} is outside this key's districts`);
}

/** A 403 unless the principal is an operator (audit log, keys, the calendar). */
export function assertOperator(p: Principal, what: string): void {
  if (p.role !== 'operator') throw new AppError('out_of_scope', `${what} is for operator keys`);
}
