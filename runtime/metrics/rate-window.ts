/**
 * Events per second over the last `windowMs`, from counts kept per time slot (bounded memory
 * whatever the rate). Used for the recent throughput behind Retry-After and the page's req/s.
 */
export class RateWindow {
  private readonly slots: Float64Array;
  private readonly slotMs: number;
  private lastSlot: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
    slotCount = 20,
  ) {
    this.slots = new Float64Array(slotCount);
    this.slotMs = windowMs / slotCount;
    this.lastSlot = Math.floor(this.now() / this.slotMs);
  }

  add(count = 1): void {
    this.advance();
    this.slots[this.lastSlot % this.slots.length] += count;
  }

  /** Total count in the window divided by the window's length in seconds. */
  perSecond(): number {
    this.advance();
    let total = 0;
    for (const c of this.slots) total += c;
    return total / (this.windowMs / 1000);
  }

  /** Clears the slots that time has moved past since the last call. */
  private advance(): void {
    const slot = Math.floor(this.now() / this.slotMs);
    const steps = Math.min(slot - this.lastSlot, this.slots.length);
    for (let i = 1; i <= steps; i++) this.slots[(this.lastSlot + i) % this.slots.length] = 0;
    if (slot > this.lastSlot) this.lastSlot = slot;
  }
}
