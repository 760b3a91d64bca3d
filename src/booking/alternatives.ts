import { search } from '../engine/search.js';
import { View } from '../engine/view.js';
import { dayStartOf, type Kind } from '../engine/params.js';
import type { FreeSlot } from '../engine/render.js';
import type { SlotStore } from '../store/slots.js';
import type { Availability } from './availability.js';
import type { Directory } from './directory.js';
import { slotJson, type SlotJson } from './slots.js';

/** Other places to try when a slot is full. */
export interface Alternatives {
  /** Other slots of the same resource with room, nearest in time first (within a week either side). */
  slots: SlotJson[];
  /** The nearest other resources with room on the same day, each with its earliest fitting slot. */
  resources: { id: string; name: string | null; distance_m: number; slot: FreeSlot }[];
}

const DAY_MS = 86_400_000;
/** How far around a full slot its resource's other slots are offered, in ms. */
const ALTERNATIVE_SLOTS_MS = 7 * DAY_MS;
/** How far away other resources are offered for a full slot, in km. */
const ALTERNATIVE_RADIUS_KM = 30;
/** How many of each are offered. */
const ALTERNATIVES = 3;

/**
 * Where else there is room for `seats` of `kind`, when slot `slotId` is full: other slots of its resource
 * near in time, and the nearest other resources with a fitting slot that day (through the availability
 * index, inside the kNN scan).
 */
export async function alternatives(deps: { slots: SlotStore; availability: Availability; directory: Directory; nowMs: number },
  slotId: number, kind: Kind, seats: number): Promise<Alternatives> {
  const slot = await deps.slots.slot(slotId);
  if (!slot) return { slots: [], resources: [] };
  const slots = (await deps.slots.roomy({
    resourceId: slot.resource_id, exceptId: slot.id, kind, n: seats, nowMs: deps.nowMs,
    fromMs: slot.start_ms - ALTERNATIVE_SLOTS_MS, toMs: slot.start_ms + ALTERNATIVE_SLOTS_MS, aroundMs: slot.start_ms, limit: ALTERNATIVES,
  })).map(slotJson);
  const view = deps.directory.holder.current;
  const self = view.locate(slot.resource_id);
  if (!self) return { slots, resources: [] };
  const dayStart = dayStartOf(slot.start_ms);
  const need = { fromMs: dayStart, toMs: dayStart + DAY_MS, seats, kind };
  await deps.availability.refresh();
  const found = search(view, {
    near: [self.snap.lng[self.i], self.snap.lat[self.i]], radiusKm: ALTERNATIVE_RADIUS_KM, limit: ALTERNATIVES,
    accept: (snap) => {
      const fits = deps.availability.acceptFor(snap, need);
      return (i) => !(snap === self.snap && i === self.i) && fits(i);
    },
  });
  // The slots are read before anything else awaits: the index may be refreshed by another request after.
  const resources = found.refs.map((ref, k) => {
    const id = View.idOf(ref);
    return { id, name: null as string | null, distance_m: Math.round(found.distancesKm![k] * 1000), slot: deps.availability.firstFit(id, need)! };
  });
  for (const r of resources) r.name = (await deps.directory.info(r.id))?.name ?? null;
  return { slots, resources };
}
