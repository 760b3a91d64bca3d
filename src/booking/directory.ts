import { AppError } from '../errors.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { View } from '../engine/view.js';
import type { Calendar } from '../calendar/calendar.js';

/** What bookings show of a resource. */
export interface ResourceInfo {
  name: string;
  address: string | null;
  /** `[lng, lat]`, WGS-84. */
  point: [number, number];
}

/** Resources whose name and address are kept per snapshot. */
const INFO_CACHE_SIZE = 10_000;

/**
 * The resources the booking module talks about, looked up in the snapshot in service: names and addresses
 * read once per snapshot (bookings repeat the same few), and the opening hours schedules start from.
 */
export class Directory {
  private readonly cache = new WeakMap<View, Map<string, ResourceInfo | undefined>>();

  constructor(readonly holder: SnapshotHolder) {}

  /** Name, address and point of a current resource; undefined when it is not (or no longer) current. */
  async info(id: string): Promise<ResourceInfo | undefined> {
    const view = this.holder.current;
    let cache = this.cache.get(view);
    if (!cache) this.cache.set(view, (cache = new Map()));
    if (cache.has(id)) return cache.get(id);
    const ref = view.locate(id);
    let info: ResourceInfo | undefined;
    if (ref) {
      const [doc] = await view.records([ref]);
      const { name, address } = JSON.parse(doc) as { name: string; address?: string | null };
      info = { name, address: address ?? null, point: [ref.snap.lng[ref.i], ref.snap.lat[ref.i]] };
    }
    if (cache.size >= INFO_CACHE_SIZE) cache.clear();
    cache.set(id, info);
    return info;
  }

  /**
   * A current resource's district and opening hours (null when it has none), with the calendar they are
   * read with, or a 404. Looks again after a refresh when another process may have just added it.
   */
  async resource(id: string): Promise<{ id: string; district: string; hours: string | null; calendar: Calendar }> {
    let ref = this.holder.current.locate(id);
    if (!ref && (await this.holder.refreshIfChanged())) ref = this.holder.current.locate(id);
    if (!ref) throw new AppError('not_found', `no resource '${id}'`);
    const { snap, i } = ref;
    const code = snap.hoursCode[i];
    return { id, district: snap.districts[snap.districtCode[i]] ?? '', hours: code >= 0 ? snap.hoursText[code] : null, calendar: snap.calendar };
  }
}
