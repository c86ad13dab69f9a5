import { Transform, type Readable } from 'node:stream';

/**
 * A deadline for work whose length is unknown (a stream of any size): it fires once when
 * nothing moved for `ms`, however long the whole takes. A transfer that keeps moving is never
 * cut; one that stalls (a peer that neither sends nor closes) is.
 */
export class IdleDeadline {
  private timer: NodeJS.Timeout | null = null;
  private fired = false;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.touch();
  }

  get expired(): boolean {
    return this.fired;
  }

  /** Something moved: the deadline starts again. */
  touch(): void {
    if (this.fired) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onIdle();
    }, this.ms);
    // A pending deadline alone must not keep the process alive.
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * `source` passed through unchanged, touching the deadline at every chunk. The source's
   * failure fails the returned stream too (pipe alone would leave its reader waiting).
   */
  watch(source: Readable): Readable {
    const through = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.touch();
        done(null, chunk);
      },
    });
    source.once('error', (err) => through.destroy(err));
    through.once('close', () => {
      if (!source.destroyed && !source.readableEnded) source.destroy();
    });
    return source.pipe(through);
  }
}
