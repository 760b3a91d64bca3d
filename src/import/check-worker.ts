import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../threads.js';
import { AreaIndex, type Area } from '../geo/areas.js';
import type { Crs } from '../geo/crs.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { Principal } from '../access/keys.js';
import { resourceOutside } from '../access/scope.js';
import { RowValidator, type Rejection } from './rows.js';
import { checkRows } from './check.js';
import type { CheckReply, CheckRequest } from './checkers.js';
import { checkedToWire, rowsFromWire } from './wire.js';

/** A row-checking thread of an import (see `Checkers`): validates chunks while the main thread writes. */
const ctx = workerData as { tax: Taxonomy; areas: Area[]; crs: Crs; by: Principal };
runInBackground();
const outside = (district: string) => resourceOutside(ctx.by, district);
const validator = new RowValidator({ tax: ctx.tax, areas: new AreaIndex(ctx.areas), crs: ctx.crs, outside });

parentPort!.on('message', ({ id, rows, current }: CheckRequest) => {
  try {
    const rejections: Rejection[] = [];
    const checked = checkRows(rowsFromWire(rows), new Map(current), validator, outside, (r) => rejections.push(r));
    parentPort!.postMessage({ id, checked: checkedToWire(checked), rejections } satisfies CheckReply);
  } catch (e) {
    parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) } satisfies CheckReply);
  }
});
