/**
 * The API's refusals said plainly, in the page's language: a sentence per problem code the pages meet (with
 * the times the problem carries), else the API's own title and detail (in Chinese when the page is).
 */
import { ApiError } from './api.js';
import { formatDateTime, lang, strings } from './i18n.js';

const s = strings({
  network: { zh: '网络连接失败，请检查网络后重试', en: 'The network failed; check the connection and retry' },
  cancellation_closed: { zh: '已过取消截止时间（{at}），不能再取消', en: 'The cancellation cut-off ({at}) has passed: it can no longer be cancelled' },
  already_checked_in: { zh: '该预约已于 {at} 签到，不能重复签到', en: 'This booking was checked in at {at}; it cannot be checked in twice' },
  checkin_not_open: { zh: '还未到签到时间：{at} 起可以签到', en: 'Check-in has not opened: it opens {at}' },
  checkin_closed: { zh: '该时段已于 {at} 结束，不能再签到', en: 'The slot ended at {at}; check-in has closed' },
  booking_not_confirmed: { zh: '该预约已不是有效预约（{status}），不能签到', en: 'This booking is no longer valid ({status}); it cannot be checked in' },
  out_of_scope: { zh: '不是本密钥所管场馆的预约或资源', en: 'This belongs to a venue this key does not run' },
  forbidden: { zh: '密钥无效或已被吊销，请向管理员确认', en: 'The key is not valid (unknown or revoked); ask your administrator' },
  unauthorized: { zh: '需要先输入场馆密钥', en: 'Enter the venue key first' },
  rate_limited: { zh: '操作太频繁，请稍后再试', en: 'Too many requests; wait a moment and retry' },
  cancelled: { zh: '已取消', en: 'cancelled' },
  cancelled_by_venue: { zh: '场馆已取消', en: 'cancelled by the venue' },
  no_show: { zh: '未到场', en: 'missed' },
});

/** A refusal as one plain sentence; `overrides` by code for what only the caller knows (a 404 of a code …). */
export function problemText(e: unknown, overrides: Record<string, string> = {}): string {
  if (!(e instanceof ApiError) || e.status === 0) return s('network');
  const p = e.problem;
  const at = (key: string) => (typeof p[key] === 'string' ? formatDateTime(p[key] as string) : '—');
  if (overrides[e.code]) return overrides[e.code];
  switch (e.code) {
    case 'cancellation_closed': return s('cancellation_closed', { at: at('cancel_before') });
    case 'already_checked_in': return s('already_checked_in', { at: at('checked_in_at') });
    case 'checkin_not_open': return s('checkin_not_open', { at: at('opens_at') });
    case 'checkin_closed': return s('checkin_closed', { at: at('closed_at') });
    case 'booking_not_confirmed': {
      const status = String(p.booking_status ?? '');
      return s('booking_not_confirmed', { status: ['cancelled', 'cancelled_by_venue', 'no_show'].includes(status) ? s(status as 'cancelled') : status });
    }
    case 'out_of_scope': case 'forbidden': case 'unauthorized': case 'rate_limited': return s(e.code);
    default: {
      const title = p.title ?? `HTTP ${e.status}`;
      // In Chinese the title says it; the detail may carry the service's English for the specifics.
      return lang() === 'en' && p.detail ? `${title}: ${p.detail}` : p.errors?.length ? `${title}：${p.errors.map((x) => x.message).join('；')}` : title;
    }
  }
}

/** The status and code of a refusal, for staff to quote (`HTTP 409 · already_checked_in`). */
export function problemCode(e: unknown): string {
  return e instanceof ApiError && e.status ? `HTTP ${e.status}${e.code ? ` · ${e.code}` : ''}` : '';
}
