import type { DatarunConfig } from '@datarun/config';
import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type DatabaseRole, dataSourceOptions } from './data-source-options.js';
import { DatabaseConnection } from './database-connection.js';

@Module({})
export class DbModule {
  /**
   * The application role's connection pool (the audit app's: `audit`). Connecting lazily lets an
   * app boot (and answer /health/ready with 503 naming the database) while PostgreSQL is unreachable.
   */
  static forRoot(config: DatarunConfig, role: Exclude<DatabaseRole, 'owner'> = 'app'): DynamicModule {
    return {
      module: DbModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.database, role),
          autoLoadEntities: true,
          // DatabaseConnection connects (and reconnects) so the app can boot without PostgreSQL.
          manualInitialization: true,
        }),
      ],
      providers: [DatabaseConnection],
      exports: [TypeOrmModule, DatabaseConnection],
    };
  }
}
