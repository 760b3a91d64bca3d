/**
 * What the MCP server tells an agent, in Chinese and English: the server's instructions and each tool's
 * description. The arguments' own descriptions come from `openapi.yaml` with their schemas.
 */

const CRS_ZH = '坐标系 crs：wgs84（默认，GPS/OpenStreetMap）、gcj02（从高德、腾讯地图得到的坐标必须写 gcj02）、bd09（百度）；你发送的和返回的坐标都用这个坐标系。';
const CRS_EN = 'crs is the system of every coordinate you send and get back: wgs84 (default; GPS, OpenStreetMap), gcj02 (coordinates from Amap/高德 or Tencent MUST say gcj02, they are ~500 m off otherwise), bd09 (Baidu).';
const DISTRICTS = '东城 110101, 西城 110102, 朝阳 110105, 丰台 110106, 石景山 110107, 海淀 110108, 门头沟 110109, 房山 110111, ' +
  '通州 110112, 顺义 110113, 昌平 110114, 大兴 110115, 怀柔 110116, 平谷 110117, 密云 110118, 延庆 110119';

/** The server's instructions (sent once, at initialisation). */
export const INSTRUCTIONS = `edumap（北京教育新地图）：北京的教育资源（博物馆、图书馆、科技馆、体育场馆、研学基地……）按五育——德 de、智 zhi、体 ti、美 mei、劳 lao——标注，可搜索、一键匹配、在线预约。
典型流程：search_resources 或 match_plan 找地方 → list_slots 看时段 → 向家长确认 → book_slot 预约 → 保存 token（取消 cancel_booking 要用）。
${CRS_ZH} 距离 distance_m 单位是米，radius_km 单位是公里。时间为 ISO 8601，不带时区即北京时间（UTC+8）。
参数错误会以工具错误返回，errors[].path 指出哪个参数：query.<参数>、path.<参数> 或 body.<字段>（与 REST API 相同），header.idempotency-key 指 idempotency_key。
Resources: edumap://taxonomy（分类体系）, edumap://areas（各区与学区）.

edumap (Beijing's education resource map): places for children and schools in Beijing, tagged with the five domains 德智体美劳 (de moral, zhi intellectual, ti physical, mei aesthetic, lao labour), to search, match in one step and book.
Typical flow: search_resources or match_plan to find places → list_slots for the times → confirm with the family → book_slot → keep the token (cancel_booking needs it).
${CRS_EN} distance_m is in metres, radius_km in kilometres. Times are ISO 8601; without an offset they are Beijing time (UTC+8).
Bad arguments come back as tool errors whose errors[].path names the argument as the REST API does: query.<name>, path.<name> or body.<field>; header.idempotency-key means idempotency_key.`;

/** Each tool's description, by tool name. */
export const DESCRIPTIONS = {
  search_resources: `搜索北京的教育资源。near=经度,纬度 按直线距离由近到远排序（每项带 distance_m，米），radius_km 限定半径（公里），area 限定区（adcode：${DISTRICTS}）或学区；tag 按五育/主题/场景筛选（id 或中文别名，如 ti、体育、mei、美育；多个 tag 须同时满足，"a|b" 表示任一），stage 学段（preschool 学前、primary 小学、junior 初中、senior 高中；12 岁多为小学六年级或初一，不确定时写 primary,junior），type 资源类型，free 免费，open_at 该时刻开放；available_from/available_to/seats/kind 只要该时段仍有空位的场所（每项带 slot）。${CRS_ZH} 用 limit 控制条数，next_cursor 作为 cursor 取下一页。
Search Beijing's education resources. near=lng,lat sorts by great-circle distance (each item gets distance_m, in metres); radius_km caps it (kilometres); area is a district adcode (above) or a school district; tag filters by 五育 domain, theme or scenario (ids or Chinese aliases: ti/体育, mei/美育 …; all tags must hold, "a|b" for either); stage (preschool, primary, junior, senior — a 12-year-old is usually in grade 6 or 7, so primary,junior when unsure); type; free; open_at (open at that time); available_from/available_to/seats/kind keep only places with a bookable slot with that many free seats in the window (each item then has slot). ${CRS_EN} Page with limit and next_cursor (pass it as cursor).`,

  get_resource: `按 id（来自 search_resources 或 match_plan）读取一个资源的完整信息：地址、开放时间 opening_hours（OSM 语法）、是否免费、是否需要预约、电话、网址、数据来源和坐标（用 crs 指定的坐标系）。
One resource by id (from search_resources or match_plan): address, opening_hours (OSM syntax), free, booking_required, phone, url, source, and its location in crs.`,

  match_plan: `一键匹配：给出一个或多个出发点 origins（如家和学校，各带 label，可设 weight），和需求 needs：stage 学段、domains 五育权重（如 {"ti": 1, "mei": 1} 表示体育和美育）、tags、types、free、time（{"at": 时刻} 或 {"from", "to"} 时间窗）、require_open、party（{"seats": 人数, "kind": "individual"|"group"}，只要有空位的场所）。返回排好序的推荐：每项有到各出发点的距离、命中的五育与标签、开放情况、分数构成，给了 party 时还有可预约的时段 slot。给了 domains 时是“均衡方案”：每个请求的领域先各出一个。radius_km 单位公里。${CRS_ZH}
One-click matching: origins (one or several — home and school, each with a label and optional weight) and needs: stage, domains (五育 weights, e.g. {"ti": 1, "mei": 1} for physical and aesthetic), tags, types, free, time ({"at"} or a {"from", "to"} window), require_open, party ({"seats", "kind"}: only places with free seats). Answers ranked candidates with the distance to each origin, the matched terms, the open state, a score breakdown and, with party, the slot each would book. With domains the answer is a balanced plan: one place per requested domain first. radius_km is in kilometres. ${CRS_EN}`,

  list_slots: `某资源的可预约时段（默认从现在起 7 天），每个时段有 start/end、capacity 和 remaining（individual 个人/家庭名额，group 学校团体名额）和 group_size。预约前必须先调用它，把场所、日期时间和剩余名额告诉家长并得到确认，再用该时段的 id 调用 book_slot。
The bookable slots of a resource (default: the coming 7 days), each with start/end, capacity and remaining places per kind (individual = families, group = school classes) and group_size. Always call this before book_slot, tell the family the place, date, time and places left, and book only the slot they confirm.`,

  get_taxonomy: `分类体系：五育（de 德育、zhi 智育、ti 体育、mei 美育、lao 劳动教育）及子类、北京文化主题、场景、学段和资源类型；每个词条有 id、中英文名、别名、父子关系。search_resources 和 match_plan 的 tag、domains、stage、type 可用这里的 id 或别名。也可读资源 edumap://taxonomy。
The taxonomy: the five domains (de, zhi, ti, mei, lao) and their sub-terms, Beijing's cultural themes, scenarios, school stages and resource types; each term has an id, Chinese and English labels, aliases, parent and children. tag, domains, stage and type in search_resources and match_plan take these ids or aliases. Also the resource edumap://taxonomy.`,

  book_slot: `为家庭（kind=individual，1–10 人）或学校团体（kind=group，人数在时段的 group_size 内）预约一个时段，遵守场馆的全部预约规则。安全预约：
1. 先用 list_slots 查看时段，把场所、日期时间、人数告诉家长，得到明确确认后才调用；
2. 每个新预约生成一个新的 idempotency_key（如 UUID）；超时或网络错误后重试时，用同一个 idempotency_key 和完全相同的参数——不会重复预约，只会返回第一次的结果；
3. contact 只填家长提供的姓名和手机号；visitor_ids（身份证号）只在需要时、只用家长给出的号码，绝不编造或猜测；
4. 返回的 token 是查看和取消该预约的唯一凭证，请保存并告诉家长；有 checkin_code 时，它是入馆核销码。
名额不足时返回 slot_full 错误，附 alternatives（同一场所的其他时段和附近有空位的场所），可询问家长是否改约。
Books places in a slot for a family (kind=individual, 1–10 people) or a school group (kind=group, within the slot's group_size), under every rule of the venue. To book safely:
1. Call list_slots first, tell the family the place, date, time and party, and book only after they say yes.
2. Make a new idempotency_key (a UUID) for each new booking; on a retry after a timeout or network error, send the same idempotency_key with exactly the same arguments — it replays the first answer and never books twice.
3. contact is the name and mobile number the family gave; visitor_ids (resident ID numbers) only when needed and only as the family gave them — never invent or guess one.
4. Keep the answer's token: it is the only way to read or cancel the booking; tell the family. checkin_code, when present, is the code shown at the gate.
A full slot is a slot_full error with alternatives (other slots of the place, nearby places with room): ask the family whether to take one.`,

  get_booking: `用预约 id 和预约时得到的 token 查看预约：状态（confirmed 已确认 / cancelled 已取消）、时段、人数、取消截止时间 cancel_before。
A booking, by its id and the token its booking answer gave: status (confirmed, cancelled), slot, party and cancel_before.`,

  cancel_booking: `取消一个预约（预约 id 和预约时得到的 token），名额退回。cancel_before 之前可以取消，之后返回 cancellation_closed 错误；重复取消返回已取消的预约。只在家长确认要取消时调用。
Cancels a booking (its id and the token of its booking answer) and gives its places back. Possible until cancel_before, after which it is a cancellation_closed error; cancelling again answers the cancelled booking. Call it only when the family confirms.`,

  join_waitlist: `时段已满（book_slot 返回 slot_full）而家长愿意候补时，加入该时段的候补：参数与 book_slot 相同（同样要新的 idempotency_key，重试时复用同一个），先征得家长同意。返回候补 id、position（排第几位）和 token；有名额释放时按顺序自动转为预约（遵守全部预约规则），转成的预约和核销码可用 token 查询。候补在时段的取消截止时间过期。
Joins the waitlist of a full slot (after book_slot answered slot_full) when the family agrees: the same arguments as book_slot (a new idempotency_key, the same one on a retry). Answers the entry's id, position and token; seats that free up promote entries in order into bookings under every rule, and the token reads the promoted booking with its check-in code. Entries expire at the slot's cancellation cut-off.`,
} as const;

/** A tool name that has a description. */
export type ToolName = keyof typeof DESCRIPTIONS;
