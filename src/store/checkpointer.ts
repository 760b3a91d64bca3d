import { once } from 'node:events';
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../threads.js';

/** What the checkpoint thread answers: the WAL's frames and how many of them are in the file now, or why not. */
export type CheckpointReply = { log: number; checkpointed: number; truncated: boolean; ms: number } | { error: string };

/** When the checkpoint thread is asked to work, and from what size of the WAL it is started at all. */
export interface CheckpointOptions {
  /** How often the WAL is looked at, and checkpointed once the thread runs, in ms (default 1,000). */
  everyMs?: number;
  /**
   * The WAL's size in bytes from which the thread is started (default 4 MiB, SQLite's own point of an
   * automatic checkpoint): a small store never pays for a thread; its WAL is checkpointed when it closes.
   */
  startBytes?: number;
  /** A WAL file larger than this is cut back once all of it is in the database file (default 64 MiB). */
  truncateAboveBytes?: number;
}

/**
 * Checkpoints a SQLite store's WAL in a thread of its own, for a connection whose automatic checkpoints are
 * off (`wal_autocheckpoint = 0`). SQLite runs an automatic checkpoint inside the COMMIT that crosses the
 * threshold, in whichever connection makes it: after another process (`npm run import`) wrote a million
 * rows, the next booking's COMMIT in the server copied them into the file, holding the server's one thread
 * for 2 s. Passive checkpoints wait for no reader and no writer, so nothing waits for them either.
 */
export class Checkpointer {
  /** Checkpoints done, frames the WAL held at the last one and how many were left uncopied (readers). */
  checkpoints = 0;
  walFrames = 0;
  framesLeft = 0;
  /** Checkpoints that failed (the thread starts again at the next look). */
  failures = 0;
  /** Times the WAL file was cut back to nothing after growing past `truncateAboveBytes`. */
  truncations = 0;
  private thread: Worker | null = null;
  private asked = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly location: string, private readonly options: CheckpointOptions = {}) {
    this.timer = setInterval(() => this.look(), options.everyMs ?? 1000);
    this.timer.unref();
  }

  /** Stops looking and ends the thread once its checkpoint under way (if any) is done; its connection is closed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const thread = this.thread;
    this.thread = null;
    if (!thread) return;
    const exited = once(thread, 'exit');
    thread.postMessage('stop');
    await exited;
  }

  private look(): void {
    if (this.asked) return;
    if (!this.thread) {
      let size = 0;
      try {
        size = statSync(`${this.location}-wal`).size;
      } catch {
        return; // no WAL file (yet)
      }
      if (size < (this.options.startBytes ?? 4 * 1024 * 1024)) return;
      this.thread = this.start();
    }
    this.asked = true;
    this.thread.postMessage('checkpoint');
  }

  private start(): Worker {
    const thread = startThread(import.meta.url, 'checkpoint-worker',
      { location: this.location, truncateAboveBytes: this.options.truncateAboveBytes ?? 64 * 1024 * 1024 });
    thread.unref();
    thread.on('message', (reply: CheckpointReply) => {
      this.asked = false;
      if ('error' in reply) {
        this.failures++;
        return;
      }
      this.checkpoints++;
      if (reply.truncated) this.truncations++;
      this.walFrames = reply.log;
      this.framesLeft = Math.max(0, reply.log - reply.checkpointed);
    });
    thread.on('error', () => this.failures++);
    thread.on('exit', () => {
      this.asked = false;
      if (this.thread === thread) this.thread = null; // started again at the next look
    });
    return thread;
  }
}
