import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { describeDatabase } from './data-source-options.js';
import { MIGRATIONS } from './migrations/index.js';

const RETRY_MS = 2000;

/**
 * Connects the application's DataSource, and keeps trying in the background when PostgreSQL is
 * not there at boot: the app stays up and /health/ready names the database until it answers.
 */
@Injectable()
export class DatabaseConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private lastError?: string;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly dataSource: DataSource) {}

  /** The first attempt runs at module init, before any module's onApplicationBootstrap (seeds, consumers). */
  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** Readiness: throws with the reason when the database does not answer within the timeout. */
  async check(timeoutMs = 2000): Promise<void> {
    if (!this.dataSource.isInitialized) throw new Error(this.lastError ?? 'not connected yet');
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    const [row] = await Promise.race([this.dataSource.query('SELECT count(*)::int AS applied FROM typeorm_migrations'), timeout]);
    // A schema behind the code fails in odd places (an audit append, a missing column): say so here.
    if (row.applied < MIGRATIONS.length) {
      throw new Error(`schema is behind the code: ${row.applied} of ${MIGRATIONS.length} migrations applied; run npm run migrate`);
    }
  }

  private async connect(): Promise<void> {
    const where = describeDatabase(String((this.dataSource.options as { url?: string }).url));
    try {
      await this.dataSource.initialize();
      if (this.lastError) this.logger.log(`connected to ${where}`);
      this.lastError = undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (reason !== this.lastError) this.logger.warn(`cannot connect to PostgreSQL at ${where}: ${reason}; retrying every ${RETRY_MS / 1000} s`);
      this.lastError = reason;
      if (!this.stopped) this.retry = setTimeout(() => void this.connect(), RETRY_MS);
    }
  }
}
