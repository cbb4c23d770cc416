/**
 * The engine's service rate: images per second of engine time over the last `size` batches. It
 * is the capacity while the engine is busy, whatever the recent traffic: an idle minute does not
 * make it look slow (a rate over wall-clock time would, and Retry-After would then say 60 s for a
 * queue that drains in one). Seeded by the warm-up's full batch until real batches replace it.
 */
export class ServiceRate {
  private readonly images: number[] = [];
  private readonly seconds: number[] = [];

  constructor(private readonly size = 32) {}

  /** One batch of `images` took `seconds` of engine time. */
  observe(images: number, seconds: number): void {
    if (!(images > 0) || !(seconds >= 0)) return;
    this.images.push(images);
    this.seconds.push(seconds);
    if (this.images.length > this.size) {
      this.images.shift();
      this.seconds.shift();
    }
  }

  /** Images per second, or undefined before any batch (or when every batch took no time). */
  perSecond(): number | undefined {
    let n = 0;
    let s = 0;
    for (let i = 0; i < this.images.length; i++) {
      n += this.images[i];
      s += this.seconds[i];
    }
    return s > 0 ? n / s : undefined;
  }
}
