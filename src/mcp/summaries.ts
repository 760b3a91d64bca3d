/**
 * The short text beside each tool's answer, in Chinese and English: what was found or done, and what to keep.
 * The answer itself travels whole (structured and as JSON text); these lines only help a reader.
 */

type Json = Record<string, unknown>;
interface Named { id?: string; name?: string; name_en?: string | null; distance_m?: number }

const SHOWN = 5;

function km(m: number | undefined): string {
  return m === undefined ? '' : ` ${(m / 1000).toFixed(1)} km`;
}

function names(items: Named[]): string {
  return items.slice(0, SHOWN).map((r, k) => `${k + 1}. ${r.name ?? r.id}${r.name_en ? ` (${r.name_en})` : ''}${km(r.distance_m)}`).join('; ');
}

/** search_resources: how many, the first few, whether there is a next page. */
export function searchSummary(a: Json): string {
  const items = (a.items ?? (a.features as Json[] | undefined)?.map((f) => ({ id: f.id, ...(f.properties as Json) }))) as Named[] ?? [];
  const more = a.next_cursor ? '；还有更多，传 cursor=next_cursor 取下一页 / more: pass cursor=next_cursor' : '';
  return `找到 ${items.length} 处（坐标 ${String(a.crs)}）/ ${items.length} found (coordinates in ${String(a.crs)})${items.length ? `: ${names(items)}` : ''}${more}`;
}

/** get_resource: name, district, type, hours. */
export function resourceSummary(a: Json): string {
  const district = (a.district as Json | undefined)?.name;
  return `${String(a.name)}${a.name_en ? ` (${String(a.name_en)})` : ''} — ${district ? `${String(district)}, ` : ''}${String(a.type)}` +
    `${a.opening_hours ? `; 开放时间 opening hours: ${String(a.opening_hours)}` : ''}${a.free === true ? '; 免费 free' : ''}` +
    `${a.booking_required === true ? '; 需预约 booking required' : ''}`;
}

/** match_plan: the ranked places with the domain each stands for. */
export function matchSummary(a: Json): string {
  const items = (a.items as { rank: number; resource: Named; domain?: string | null; score?: number }[] | undefined) ?? [];
  const list = items.slice(0, SHOWN).map((it) => `${it.rank}. ${it.resource.name ?? it.resource.id}${it.domain ? ` [${it.domain}]` : ''}`).join('; ');
  return `推荐 ${items.length} 处 / ${items.length} matches${list ? `: ${list}` : ''}`;
}

/** list_slots: how many slots, and the first with room for families. */
export function slotsSummary(a: Json): string {
  const items = (a.items as { id: number; start: string; remaining: { individual: number; group: number } }[] | undefined) ?? [];
  const open = items.filter((s) => s.remaining.individual > 0 || s.remaining.group > 0);
  const first = open[0] ? `；最早有余位 first with places: #${open[0].id} ${open[0].start}（个人 individual ${open[0].remaining.individual}，团体 group ${open[0].remaining.group}）` : '';
  return `${String(a.resource_id)}: ${items.length} 个时段 slots, ${open.length} 个有余位 with places${first}`;
}

/** get_taxonomy: version and size. */
export function taxonomySummary(a: Json): string {
  return `分类体系 taxonomy ${String(a.version)}: ${(a.terms as unknown[] | undefined)?.length ?? 0} 个词条 terms`;
}

/** book_slot and get_booking: the booking, the token to keep, the check-in code once bookings have one. */
export function bookingSummary(a: Json): string {
  const slot = a.slot as Json | undefined;
  const resource = a.resource as Json | undefined;
  const state = a.status === 'cancelled' ? '已取消 cancelled' : '已确认 confirmed';
  const token = a.token ? `；token（取消时需要，请保存 keep it to cancel）: ${String(a.token)}` : '';
  const code = a.checkin_code ? `；入馆核销码 check-in code: ${String(a.checkin_code)}` : '';
  return `预约 booking ${String(a.id)} ${state}: ${String(resource?.name ?? resource?.id)} ${String(slot?.start)}–${String(slot?.end)}, ` +
    `${String(a.party_size)} 人 people${token}${code}；可取消至 cancel before ${String(a.cancel_before)}`;
}

/** join_waitlist: the entry, its position and the token to keep. */
export function waitlistSummary(a: Json): string {
  return `候补 waitlist ${String(a.id)}: 第 ${String(a.position)} 位 position ${String(a.position)}` +
    `${a.token ? `；token（查询或退出候补时需要 keep it）: ${String(a.token)}` : ''}`;
}
