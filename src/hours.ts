import OpeningHours from 'opening_hours';
import { shanghaiWallClock } from './time.js';

// Public holidays (PH) are looked up for China, Beijing.
const BEIJING = { lat: 39.9042, lon: 116.4074, address: { country_code: 'cn', state: '北京市' } };

type Parsed = InstanceType<typeof OpeningHours>;

/** Parses OSM `opening_hours`; returns the parsed value or the library's first line of complaint. */
export function parseHours(text: string): { hours: Parsed } | { error: string } {
  try {
    return { hours: new OpeningHours(text, BEIJING) };
  } catch (e) {
    return { error: String(e).split('\n')[0].trim() };
  }
}

/** Whether the hours say open at the instant (Beijing time). Unknown or unparseable hours are never open. */
export function isOpenAt(hours: Parsed, instant: Date): boolean {
  return hours.getState(shanghaiWallClock(instant));
}
