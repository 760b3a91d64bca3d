/** A booking's files, which only the holder of its token may read: the calendar event and the QR code. */
import { fetchText } from './api.js';
import { h } from './dom.js';

/** Downloads the booking's `.ics` (fetched with its token) as a file named after the booking. */
export async function saveIcs(bookingId: string, token: string): Promise<void> {
  const text = await fetchText(`/v1/bookings/${encodeURIComponent(bookingId)}.ics`, token);
  const url = URL.createObjectURL(new Blob([text], { type: 'text/calendar;charset=utf-8' }));
  const link = h('a', { href: url, download: `${bookingId}.ics`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The booking's QR code as an image: the SVG fetched with its token becomes a `data:` URL, which the page's
 * policy allows for images (an image never runs script, so the SVG is not parsed into the page).
 */
export async function qrImage(bookingId: string, token: string, alt: string): Promise<HTMLImageElement> {
  const svg = await fetchText(`/v1/bookings/${encodeURIComponent(bookingId)}/qr.svg`, token);
  return h('img', { class: 'qr', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt, width: 176, height: 176 });
}
