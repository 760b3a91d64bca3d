/**
 * Check-in at the gate (核销): the code typed (`ABCD-EFGH`, any case, hyphens and spaces ignored) or read
 * from the visitor's QR code by the camera where the browser has `BarcodeDetector` (feature-detected; typing
 * always works). The API's answer is shown plainly: who, how many, when — or why not.
 */
import { send, type Booking } from './api.js';
import { h, replace } from './dom.js';
import { formatDateTime, formatTime, strings } from './i18n.js';
import { problemCode, problemText } from './problems.js';

const s = strings({
  title: { zh: '签到核销', en: 'Check-in' },
  code: { zh: '签到码', en: 'Check-in code' },
  codeHint: { zh: '8 位，如 7K3M-Q9XD；大小写、空格和连字符都可以', en: '8 characters, e.g. 7K3M-Q9XD; any case, spaces and hyphens are fine' },
  submit: { zh: '签到', en: 'Check in' },
  working: { zh: '正在签到…', en: 'Checking in…' },
  scan: { zh: '扫码签到', en: 'Scan a QR code' },
  stop: { zh: '停止扫码', en: 'Stop scanning' },
  camera: { zh: '摄像头画面：将访客的二维码对准画面', en: 'Camera: hold the visitor\'s QR code in view' },
  noCamera: { zh: '无法打开摄像头，请手动输入签到码', en: 'The camera could not be opened; type the code instead' },
  noScanner: { zh: '此浏览器不支持扫码，请手动输入签到码', en: 'This browser cannot read QR codes; type the code' },
  bad: { zh: '签到码应为 8 位字母和数字，如 7K3M-Q9XD', en: 'A code is 8 letters and digits, e.g. 7K3M-Q9XD' },
  ok: { zh: '✓ 已签到', en: '✓ Checked in' },
  okLine: { zh: '{name} · {party} 人{group} · {slot}', en: '{name} · {party} {group}· {slot}' },
  group: { zh: '（团体）', en: '(group) ' },
  at: { zh: '签到时间 {at}', en: 'Checked in at {at}' },
  failed: { zh: '✗ 未签到', en: '✗ Not checked in' },
  unknownCode: { zh: '没有使用此签到码的预约，请核对后重试', en: 'No booking has this code; check it and retry' },
  needKey: { zh: '请先在上方输入场馆密钥', en: 'Enter the venue key above first' },
});

/** What check-in needs from the console. */
export interface CheckinContext {
  key(): string | null;
  announce(text: string): void;
  /** A booking was checked in: its slot's roster should show it. */
  checkedIn(b: Booking): void;
}

/** The shape of `BarcodeDetector` as used here (not in TypeScript's DOM library yet). */
interface Detector { detect(source: CanvasImageSource): Promise<{ rawValue: string }[]> }
type DetectorClass = new (options: { formats: string[] }) => Detector;

/** The browser's QR reader, if it has one. */
function detectorClass(): DetectorClass | null {
  const cls = (window as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  return cls && typeof navigator.mediaDevices?.getUserMedia === 'function' ? cls : null;
}

let scanning: { stream: MediaStream; stop(): void } | null = null;

/** Draws the check-in form into `el`. */
export function renderCheckin(el: HTMLElement, ctx: CheckinContext): void {
  scanning?.stop();
  const input = h('input', {
    id: 'code', name: 'code', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters',
    maxlength: '24', inputmode: 'text', 'aria-describedby': 'code-hint code-error', enterkeyhint: 'go',
  });
  const error = h('p', { class: 'field-error', id: 'code-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, s('submit'));
  const result = h('div', { id: 'checkin-result', class: 'checkin-result' });
  const Detector = detectorClass();
  const scanButton = Detector ? h('button', { type: 'button', class: 'secondary', id: 'scan' }, s('scan')) : null;
  const scanBox = h('div', { class: 'scan-box', hidden: true });
  const form = h('form', { class: 'checkin-form', novalidate: true },
    h('div', { class: 'field-row' }, h('label', { for: 'code' }, s('code')), input, h('p', { class: 'hint', id: 'code-hint' }, s('codeHint')), error),
    h('div', { class: 'buttons' }, submit, scanButton),
    Detector ? null : h('p', { class: 'muted small', id: 'no-scanner' }, s('noScanner')),
    scanBox);

  async function checkIn(code: string): Promise<void> {
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    const key = ctx.key();
    if (!key) {
      error.textContent = s('needKey');
      return document.getElementById('venue-key')?.focus();
    }
    if (!/^[0-9A-Za-z][0-9A-Za-z -]{3,23}$/.test(code.trim()) || code.replace(/[\s-]/g, '').length < 8) {
      error.textContent = s('bad');
      input.setAttribute('aria-invalid', 'true');
      return input.focus();
    }
    submit.disabled = true;
    submit.textContent = s('working');
    try {
      const b = await send<Booking>('POST', '/v1/checkins', { credential: key, body: { code: code.trim() } });
      const line = s('okLine', {
        name: b.contact.name, party: b.party_size, group: b.kind === 'group' ? s('group') : '',
        slot: `${formatDateTime(b.slot.start)}–${formatTime(b.slot.end)}`,
      });
      replace(result, h('div', { class: 'result-box ok', role: 'status', 'data-booking': b.id },
        h('p', { class: 'result-title' }, s('ok')), h('p', {}, line), h('p', { class: 'muted small' }, s('at', { at: formatDateTime(b.checked_in_at ?? new Date().toISOString()) }))));
      ctx.announce(`${s('ok')}：${line}`);
      input.value = '';
      ctx.checkedIn(b);
    } catch (e) {
      const text = problemText(e, { not_found: s('unknownCode') });
      replace(result, h('div', { class: 'result-box failed', role: 'alert' },
        h('p', { class: 'result-title' }, s('failed')), h('p', { class: 'reason' }, text), h('p', { class: 'muted small code' }, problemCode(e))));
      input.select();
    } finally {
      submit.disabled = false;
      submit.textContent = s('submit');
      input.focus();
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void checkIn(input.value);
  });

  if (scanButton) scanButton.addEventListener('click', async () => {
    if (scanning) return scanning.stop();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      const video = h('video', { class: 'scan-video', muted: true, playsinline: true, autoplay: true, 'aria-label': s('camera') });
      video.srcObject = stream;
      const stop = h('button', { type: 'button', class: 'secondary' }, s('stop'));
      const detector = new Detector!({ formats: ['qr_code'] });
      let timer = 0;
      const end = () => {
        window.clearTimeout(timer);
        for (const track of stream.getTracks()) track.stop();
        scanning = null;
        scanBox.hidden = true;
        replace(scanBox);
        scanButton.textContent = s('scan');
        scanButton.setAttribute('aria-pressed', 'false');
      };
      scanning = { stream, stop: end };
      stop.addEventListener('click', () => {
        end();
        scanButton.focus();
      });
      scanBox.onkeydown = (e) => {
        if (e.key === 'Escape') {
          end();
          scanButton.focus();
        }
      };
      replace(scanBox, video, stop);
      scanBox.hidden = false;
      scanButton.textContent = s('stop');
      scanButton.setAttribute('aria-pressed', 'true');
      await video.play().catch(() => undefined);
      // A few looks a second until a code is seen; then the camera goes off and the code is checked in.
      const look = async () => {
        if (scanning?.stream !== stream) return;
        try {
          const found = video.readyState >= 2 ? await detector.detect(video) : [];
          const code = found.map((f) => f.rawValue.trim()).find((v) => /^[0-9A-Za-z -]{8,24}$/.test(v));
          if (code) {
            end();
            input.value = code;
            return void checkIn(code);
          }
        } catch {
          // a frame the detector could not read: try the next
        }
        timer = window.setTimeout(() => void look(), 250);
      };
      void look();
    } catch {
      replace(result, h('div', { class: 'result-box failed', role: 'alert' }, h('p', {}, s('noCamera'))));
      input.focus();
    }
  });

  replace(el, h('h2', { id: 'checkin-title' }, s('title')), form, result);
}
