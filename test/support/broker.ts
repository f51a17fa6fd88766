// A broker of the test's own, on other ports, started and stopped through the project's own
// deploy/local/kafka.sh: fault tests never stop the broker the rest of the suite uses.
import { execFile } from 'node:child_process';
import { portAccepts } from './net.js';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class OwnBroker {
  constructor(
    readonly port: number,
    readonly controllerPort = port + 1,
    /** More of deploy/local/kafka.sh's knobs (KAFKA_SASL_PORT, KAFKA_SASL_USERS, …). */
    private readonly env: Record<string, string> = {},
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.script('start');
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    await this.script('stop', '--hard');
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }

  /** True when a TCP connection to the broker's port is accepted. */
  accepts(): Promise<boolean> {
    return portAccepts(this.port);
  }

  private async script(...args: string[]): Promise<void> {
    await run('bash', ['deploy/local/kafka.sh', ...args], {
      env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.controllerPort), ...this.env },
      timeout: 120_000,
    });
  }
}
