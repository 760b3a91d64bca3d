/**
 * The stall bench's steady client, in a process of its own so that nothing the bench does meanwhile (making
 * and uploading a 25 MB file) delays it: `lanes` sequential loops of nearest queries to varied points. Each
 * line `take` on stdin is answered by one JSON line on stdout: the latencies (ms) since the last `take`, and
 * the failures; `stop` ends it.
 *
 *   tsx scripts/bench-probe.ts ORIGIN [LANES] [SEED]
 */
import { createInterface } from 'node:readline';
import { createRandom } from './gen.js';

const [origin, lanesArg = '2', seedArg = '6'] = process.argv.slice(2);
const rand = createRandom(Number(seedArg));
const paths = Array.from({ length: 5000 }, () => `/v1/resources?near=${(116.2 + rand() * 0.4).toFixed(5)},${(39.8 + rand() * 0.25).toFixed(5)}&limit=10`);
let times: number[] = [];
let failures: string[] = [];
let running = true;
let k = 0;

async function lane(): Promise<void> {
  while (running) {
    const path = paths[k++ % paths.length];
    const t = performance.now();
    const res = await fetch(origin + path).catch((e: Error) => e);
    if (res instanceof Error) failures.push(res.message);
    else {
      await res.arrayBuffer();
      if (!res.ok) failures.push(`${res.status} ${path}`);
    }
    times.push(performance.now() - t);
  }
}

const lanes = Promise.all(Array.from({ length: Number(lanesArg) }, lane));
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'take') {
    process.stdout.write(`${JSON.stringify({ times, failures })}\n`);
    times = [];
    failures = [];
  } else if (line === 'stop') break;
}
running = false;
await lanes;
