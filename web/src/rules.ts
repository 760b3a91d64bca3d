/** A venue's booking rules as a family reads them before booking, and the release time of a slot. */
import type { BookingRules, Slot } from './api.js';
import { h } from './dom.js';
import { strings } from './i18n.js';

const s = strings({
  title: { zh: '预约须知', en: 'Before you book' },
  release: { zh: '放号：每个时段提前 {days} 天的 {time} 开放预约', en: 'Release: each slot opens {days} days ahead at {time}' },
  releaseMidnight: { zh: '放号：每个时段提前 {days} 天开放预约', en: 'Release: each slot opens {days} days ahead' },
  cutoff: { zh: '取消：开始前 {hours} 小时截止取消；候补也在此时截止', en: 'Cancelling: until {hours} hours before the start; the waitlist closes then too' },
  realName: { zh: '实名预约：需填写每位参观者的居民身份证号码，一人一天在本馆限约一次', en: 'Real name: the resident ID number of every visitor; one booking per person per day here' },
  notRealName: { zh: '无需实名，填写联系人和手机号即可', en: 'No ID numbers needed: a contact name and mobile number' },
  perContact: { zh: '每个手机号每天最多预约 {n} 人', en: 'At most {n} people per mobile number a day' },
  group: { zh: '团体：{min}–{max} 人', en: 'Groups: {min}–{max} people' },
  groupAny: { zh: '团体：人数以时段规定为准', en: 'Groups: the size each slot allows' },
  groupOrg: { zh: '，需填写统一社会信用代码', en: ', with the organisation\'s unified social credit code' },
  groupLeader: { zh: '和领队身份证号', en: ' and the leader\'s resident ID number' },
  groupBatches: { zh: '，每天限 {n} 批', en: '; {n} groups a day at most' },
  noShow: { zh: '爽约：{days} 天内 {limit} 次预约未到场，将暂停在本馆预约 {ban} 天', en: 'No-shows: {limit} missed bookings within {days} days pause bookings here for {ban} days' },
});

const DAY_MS = 86_400_000;

/** When a slot opens for booking under these rules, epoch ms: `release_time` of the slot's day − `window_days` (Beijing time). */
export function opensAtMs(rules: Pick<BookingRules, 'window_days' | 'release_time'>, slot: Pick<Slot, 'start'>): number {
  const day = new Date(Date.parse(slot.start) + 8 * 3_600_000).toISOString().slice(0, 10);
  const [hh, mm] = rules.release_time.split(':').map(Number);
  return Date.parse(`${day}T00:00:00+08:00`) - rules.window_days * DAY_MS + (hh * 60 + mm) * 60_000;
}

/** The rules, one line each, under a heading; `groups` says whether the resource takes group bookings. */
export function rulesBox(rules: BookingRules, groups: boolean): HTMLElement {
  const lines = [
    rules.release_time === '00:00' ? s('releaseMidnight', { days: rules.window_days }) : s('release', { days: rules.window_days, time: rules.release_time }),
    s('cutoff', { hours: rules.cancel_cutoff_hours }),
    rules.real_name ? s('realName') : s('notRealName'),
    rules.per_contact_daily !== null ? s('perContact', { n: rules.per_contact_daily }) : null,
    groups ? groupLine(rules) : null,
    rules.no_show ? s('noShow', { days: rules.no_show.within_days, limit: rules.no_show.limit, ban: rules.no_show.ban_days }) : null,
  ];
  return h('section', { class: 'rules', 'aria-labelledby': 'rules-title', 'data-real-name': String(rules.real_name) },
    h('h4', { id: 'rules-title' }, s('title')),
    h('ul', {}, lines.filter((x): x is string => x !== null).map((x) => h('li', {}, x))));
}

function groupLine(rules: BookingRules): string {
  const size = rules.group.min !== null && rules.group.max !== null ? s('group', { min: rules.group.min, max: rules.group.max }) : s('groupAny');
  const org = rules.group.org_code_required || rules.real_name ? s('groupOrg') + (rules.real_name ? s('groupLeader') : '') : '';
  const batches = rules.group.batches_per_day !== null ? s('groupBatches', { n: rules.group.batches_per_day }) : '';
  return size + org + batches;
}
