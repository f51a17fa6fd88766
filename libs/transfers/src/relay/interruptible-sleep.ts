/**
 * The pause of a background loop that shutdown can cut short: `sleep` waits, `wake` ends the
 * current wait at once (and is harmless when nothing waits).
 */
export class InterruptibleSleep {
  private wakeCurrent?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeCurrent = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    this.wakeCurrent?.();
  }
}
