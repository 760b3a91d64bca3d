/** The page's two languages: Chinese by default, English on request (remembered in localStorage). */
export type Lang = 'zh' | 'en';

const STRINGS = {
  title: { zh: '北京教育资源地图', en: 'Beijing Education Resource Map' },
  tagline: { zh: '五育资源 · 就近查找 · 在线预约', en: 'Five-domain resources · nearby · book online' },
  switchLang: { zh: 'English', en: '中文' },
  switchLangLabel: { zh: 'Switch to English', en: '切换到中文' },
  largeText: { zh: '大字', en: 'Larger text' },
  listOnly: { zh: '只看列表', en: 'List only' },
  mine: { zh: '我的预约', en: 'My bookings' },
  zoomIn: { zh: '放大', en: 'Zoom in' },
  zoomOut: { zh: '缩小', en: 'Zoom out' },
  mapKeys: {
    zh: '地图可用键盘操作：方向键移动，加号和减号缩放，Tab 键依次选择标记，回车打开；“以地图中心为起点”使用地图中心的十字。',
    en: 'Keyboard: arrow keys move the map, plus and minus zoom, Tab moves through the markers, Enter opens one; "Use the map centre" takes the crosshair at its centre.',
  },
  useCentre: { zh: '以地图中心为起点', en: 'Use the map centre' },
  area: { zh: '所在区', en: 'District' },
  allDistricts: { zh: '全市', en: 'All of Beijing' },
  wholeCity: { zh: '全市', en: 'All of Beijing' },
  updated: { zh: '结果已更新', en: 'Results updated' },
  skip: { zh: '跳到结果列表', en: 'Skip to the results' },
  mapLabel: { zh: '北京市地图：16 个区与教育资源', en: 'Map of Beijing: 16 districts and education resources' },
  scenarios: { zh: '五育场景', en: 'Five domains' },
  filters: { zh: '筛选', en: 'Filters' },
  stage: { zh: '学段', en: 'School stage' },
  allStages: { zh: '全部学段', en: 'All stages' },
  free: { zh: '免费', en: 'Free' },
  openNow: { zh: '现在开放', en: 'Open now' },
  seatsOn: { zh: '有余位的日期', en: 'Free seats on' },
  seatsUnavailable: { zh: '（预约服务暂未开放）', en: '(booking not available yet)' },
  anyDay: { zh: '不限日期', en: 'Any day' },
  today: { zh: '今天', en: 'Today' },
  tomorrow: { zh: '明天', en: 'Tomorrow' },
  search: { zh: '名称搜索', en: 'Search by name' },
  searchPlaceholder: { zh: '如：科技馆', en: 'e.g. museum' },
  clear: { zh: '清除', en: 'Clear' },
  origin: { zh: '起点', en: 'Starting point' },
  originHint: { zh: '点击地图设置起点，查看离您最近的资源', en: 'Click the map to set a starting point and see what is nearest' },
  originSet: { zh: '起点已设置', en: 'Starting point set' },
  useLocation: { zh: '使用我的位置', en: 'Use my location' },
  locating: { zh: '正在定位…', en: 'Locating…' },
  locationDenied: { zh: '无法获取位置，请在地图上点击设置起点', en: 'Location unavailable; click the map to set a starting point' },
  match: { zh: '一键匹配', en: 'One-click match' },
  matchHint: { zh: '按起点、五育和筛选条件推荐最佳方案', en: 'Recommends the best plan from your starting point, domains and filters' },
  matchNeedsOrigin: { zh: '请先在地图上点击设置起点', en: 'Set a starting point on the map first' },
  matchTitle: { zh: '最佳方案', en: 'Best plan' },
  matchNone: { zh: '没有找到符合条件的资源', en: 'No resource fits these needs' },
  matchUnavailable: { zh: '一键匹配服务暂未开放', en: 'One-click matching is not available yet' },
  score: { zh: '得分', en: 'Score' },
  standsFor: { zh: '代表', en: 'for ' },
  distanceFrom: { zh: '距起点', en: 'From the starting point:' },
  matched: { zh: '匹配：', en: 'Matches: ' },
  openThen: { zh: '届时开放', en: 'Open at that time' },
  bookable: { zh: '可预约', en: 'Bookable' },
  closedThen: { zh: '届时不开放', en: 'Closed at that time' },
  hoursUnknownShort: { zh: '开放时间未知', en: 'Opening hours unknown' },
  scoreParts: { zh: '评分构成：', en: 'Score parts:' },
  inView: { zh: '地图范围内', en: 'In this view' },
  nearest: { zh: '离起点最近', en: 'Nearest to the starting point' },
  places: { zh: '处', en: 'places' },
  loading: { zh: '加载中…', en: 'Loading…' },
  none: { zh: '没有符合条件的资源，试试放宽筛选或缩小地图', en: 'Nothing matches; try fewer filters or zoom out' },
  more: { zh: '加载更多', en: 'Load more' },
  legend: { zh: '图例：主要五育方向', en: 'Legend: main domain' },
  otherDomain: { zh: '其他', en: 'Other' },
  back: { zh: '返回列表', en: 'Back to the list' },
  type: { zh: '类型', en: 'Type' },
  district: { zh: '所在区', en: 'District' },
  address: { zh: '地址', en: 'Address' },
  hours: { zh: '开放时间', en: 'Opening hours' },
  hoursUnknown: { zh: '暂无信息，请出发前咨询', en: 'Not known; check before you go' },
  terms: { zh: '教育标签', en: 'Topics' },
  stages: { zh: '适合学段', en: 'Suitable for' },
  distance: { zh: '距离', en: 'Distance' },
  price: { zh: '费用', en: 'Admission' },
  isFree: { zh: '免费', en: 'Free' },
  notFree: { zh: '收费', en: 'Paid' },
  unknown: { zh: '未知', en: 'Unknown' },
  bookingRequired: { zh: '需预约', en: 'Booking required' },
  source: { zh: '数据来源', en: 'Source' },
  slots: { zh: '可预约时段', en: 'Time slots' },
  slotsNone: { zh: '近两周暂无可预约时段', en: 'No bookable slots in the next two weeks' },
  slotsUnavailable: { zh: '该场馆暂不支持在线预约', en: 'Online booking is not available here' },
  remaining: { zh: '余', en: 'left:' },
  seatsUnit: { zh: '位', en: '' },
  full: { zh: '已满', en: 'Full' },
  book: { zh: '在线预约', en: 'Book' },
  chooseSlot: { zh: '选择时段', en: 'Choose a time slot' },
  contactName: { zh: '联系人姓名', en: 'Contact name' },
  phone: { zh: '手机号', en: 'Mobile number' },
  partySize: { zh: '人数', en: 'Party size' },
  submit: { zh: '提交预约', en: 'Confirm booking' },
  submitting: { zh: '正在提交…', en: 'Booking…' },
  privacy: { zh: '手机号仅用于预约联系，系统只保存加密摘要。', en: 'Your number is used only for this booking; only a keyed hash is stored.' },
  booked: { zh: '预约成功', en: 'Booking confirmed' },
  bookingNo: { zh: '预约编号', en: 'Booking number' },
  time: { zh: '时间', en: 'Time' },
  people: { zh: '人', en: 'people' },
  ics: { zh: '添加到日历（.ics）', en: 'Add to calendar (.ics)' },
  keepToken: { zh: '请保存此页面信息，取消预约时需要。', en: 'Keep this information: you need it to cancel.' },
  bookAnother: { zh: '再约一个时段', en: 'Book another slot' },
  slotFull: { zh: '该时段余位不足', en: 'Not enough places left in this slot' },
  otherSlots: { zh: '该场馆其他有名额的时段', en: 'Other slots here with room' },
  alternatives: { zh: '当天附近有名额的场馆', en: 'Places nearby with room that day' },
  errorGeneric: { zh: '出错了，请稍后再试', en: 'Something went wrong; please try again' },
  errorNetwork: { zh: '网络连接失败，请检查网络后重试', en: 'The network failed; check the connection and retry' },
  phoneInvalid: { zh: '请输入 11 位手机号', en: 'Enter an 11-digit mobile number' },
  nameInvalid: { zh: '请输入联系人姓名', en: 'Enter a contact name' },
  resultsLabel: { zh: '搜索结果', en: 'Results' },
  cardLabel: { zh: '资源详情', en: 'Details' },
  controlsLabel: { zh: '筛选', en: 'Filters' },
  openCard: { zh: '查看详情', en: 'Details' },
  clusterOf: { zh: '处资源，点击放大', en: 'resources; click to zoom in' },
  meters: { zh: '米', en: 'm' },
  kilometers: { zh: '公里', en: 'km' },
  footer: {
    zh: '边界：北京市 16 区（DataV/高德，已转换为 WGS-84）；部分数据 © OpenStreetMap 贡献者',
    en: "Boundaries: Beijing's 16 districts (DataV/Amap, converted to WGS-84); some data © OpenStreetMap contributors",
  },
} satisfies Record<string, Record<Lang, string>>;

export type Key = keyof typeof STRINGS;

let current: Lang = 'zh';

/** Joins a list as the language does: `小学、初中`, `Primary, Junior`. */
export function joinList(items: string[]): string {
  return items.join(current === 'zh' ? '、' : ', ');
}

/** A label before its value: `数据来源：…`, `Source: …`. */
export function labelled(label: string, value: string): string {
  return current === 'zh' ? `${label}：${value}` : `${label}: ${value}`;
}

/** The current language. */
export function lang(): Lang {
  return current;
}

/** Sets the language for the next renders and on `<html lang>`. */
export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  try {
    localStorage.setItem('edumap.lang', next);
  } catch {
    // storage may be off (private mode); the choice then lasts for this page only
  }
}

/** The language remembered from an earlier visit, else Chinese. */
export function savedLang(): Lang {
  try {
    return localStorage.getItem('edumap.lang') === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

/** The UI string in the current language. */
export function t(key: Key): string {
  return STRINGS[key][current];
}

/**
 * A module's own table of UI strings, read in the current language; `{name}` placeholders are filled from
 * `values`: `const s = strings({ left: { zh: '余 {n} 位', en: '{n} left' } }); s('left', { n: 3 })`.
 */
export function strings<K extends string>(table: Record<K, Record<Lang, string>>): (key: K, values?: Record<string, string | number>) => string {
  return (key, values) => {
    const text = table[key][current];
    return values ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in values ? String(values[name]) : m)) : text;
  };
}

/** English names of Beijing's districts, by adcode (the service stores the Chinese names). */
const DISTRICT_EN: Record<string, string> = {
  110101: 'Dongcheng', 110102: 'Xicheng', 110105: 'Chaoyang', 110106: 'Fengtai', 110107: 'Shijingshan',
  110108: 'Haidian', 110109: 'Mentougou', 110111: 'Fangshan', 110112: 'Tongzhou', 110113: 'Shunyi',
  110114: 'Changping', 110115: 'Daxing', 110116: 'Huairou', 110117: 'Pinggu', 110118: 'Miyun', 110119: 'Yanqing',
};

/** A district's name in the current language. */
export function districtName(code: string, zh: string): string {
  return current === 'en' ? DISTRICT_EN[code] ?? zh : zh;
}

/** A distance in metres as people say it: `850 米`, `1.2 公里`. */
export function formatDistance(m: number): string {
  if (m < 1000) return `${Math.round(m / 10) * 10} ${t('meters')}`;
  return `${(m / 1000).toFixed(m < 10_000 ? 1 : 0)} ${t('kilometers')}`;
}

const WEEKDAYS_ZH = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** Date and time of an ISO instant in Beijing time: `12月5日 周六 09:00`. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  if (current === 'zh') {
    const weekday = WEEKDAYS_ZH[new Date(Date.UTC(+parts.year, +parts.month - 1, +parts.day)).getUTCDay()];
    return `${Number(parts.month)}月${Number(parts.day)}日 ${weekday} ${parts.hour}:${parts.minute}`;
  }
  return `${parts.weekday} ${parts.day}/${parts.month} ${parts.hour}:${parts.minute}`;
}

/** A Beijing calendar day `YYYY-MM-DD` as people say it: `11月30日 周一`, `今天 11月29日 周日`; `offset` from today. */
export function formatDay(ymd: string, offset: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const name = current === 'zh' ? `${m}月${d}日 ${WEEKDAYS_ZH[weekday]}`
    : `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][weekday]} ${d} ${MONTHS[m - 1]}`;
  return offset === 0 ? `${t('today')} ${name}` : offset === 1 ? `${t('tomorrow')} ${name}` : name;
}

/** The time of day of an ISO instant in Beijing time: `10:30`. */
export function formatTime(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

const DAYS: Record<string, string> = { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * OpenStreetMap opening hours, one rule a line, in Chinese when the page is: `Apr-Oct Tu-Su 08:30-17:00; PH off`
 * reads `4–10月 周二至周日 08:30–17:00` and `法定节假日 闭馆`. Syntax it does not know is shown as written.
 */
export function formatHours(text: string): string[] {
  const rules = text.split(/\s*;\s*/).filter(Boolean);
  if (current === 'en') return rules;
  return rules.map((rule) => rule
    .replace(/\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/g,
      (_m, a: string, b: string) => `${MONTHS.indexOf(a) + 1}–${MONTHS.indexOf(b) + 1}月`)
    .replace(/\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/g, (m) => `${MONTHS.indexOf(m) + 1}月`)
    .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)-(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, (_m, a: string, b: string) => `${DAYS[a]}至${DAYS[b]}`)
    .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, (m) => DAYS[m])
    .replace(/\bPH\b/g, '法定节假日')
    .replace(/\b24\/7\b/g, '全天开放')
    .replace(/\boff\b/g, '闭馆')
    .replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, '$1–$2')
    .replace(/,/g, '、'));
}
