/** Tells a test when the next request reaches a fake provider (the product's call is in flight). */
export class Arrivals {
  private waiting: (() => void) | null = null;

  /** Called by the fake for every request it receives. */
  arrived(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  /** Resolves when the next request arrives. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
