export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly threshold: number;
  /** How long an open circuit refuses calls before it lets one trial through. */
  readonly openMs: number;
  readonly now: () => number;
}

interface Circuit {
  failures: number;
  /** Set while the circuit is open or half-open. */
  openedAt?: number;
  /** A half-open circuit lets exactly one call through; the others keep failing fast. */
  trialInFlight: boolean;
}

/** What `admit` answers: go ahead, or the moment the circuit opened (for the caller's message). */
export type Admission = { admitted: true } | { admitted: false; openSince: Date };

/**
 * Consecutive-failure circuit breakers, one per key (a source id). A department that is down
 * costs one timeout per caller until the threshold, then nothing: calls fail at once instead of
 * holding a connection and a gateway worker for the whole timeout, and the department is not
 * hammered while it recovers.
 */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(private readonly options: CircuitBreakerOptions) {}

  state(key: string): CircuitState {
    const circuit = this.circuits.get(key);
    if (circuit?.openedAt === undefined) return 'closed';
    return this.options.now() - circuit.openedAt < this.options.openMs ? 'open' : 'half-open';
  }

  /** Asks to make a call; an admitted call must end with `succeeded` or `failed`. */
  admit(key: string): Admission {
    const circuit = this.circuits.get(key);
    if (circuit?.openedAt === undefined) return { admitted: true };
    const state = this.state(key);
    if (state === 'half-open' && !circuit.trialInFlight) {
      circuit.trialInFlight = true;
      return { admitted: true };
    }
    return { admitted: false, openSince: new Date(circuit.openedAt) };
  }

  succeeded(key: string): void {
    this.circuits.delete(key);
  }

  failed(key: string): void {
    const circuit = this.circuits.get(key) ?? { failures: 0, trialInFlight: false };
    this.circuits.set(key, circuit);
    circuit.failures += 1;
    if (circuit.trialInFlight || circuit.failures >= this.options.threshold) {
      // A failed trial re-opens for a full period; so does reaching the threshold.
      circuit.openedAt = this.options.now();
      circuit.trialInFlight = false;
    }
  }
}
