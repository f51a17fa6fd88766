import { z } from 'zod';
import { defineSection } from '../section.js';
import { folderPath, port } from '../values.js';

export type AppName = 'gateway' | 'registry' | 'audit' | 'relay' | 'connector' | 'sandbox';

/** What every process reads: its kind of deployment, where it listens, how it logs, its local folder. */
export interface ProcessConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly host: string;
  readonly logLevel: string;
  readonly ports: Readonly<Record<AppName, number>>;
  /** Development keys, audit checkpoint copies and archives, the local infrastructure (git-ignored). */
  readonly localDir: string;
}

const variables = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      'The kind of deployment. With `production`, an app refuses at boot, in one line naming the variable to set, the development defaults it would otherwise run on: a missing key, a key under `.local` or `DATARUN_LOCAL_DIR/keys`, the development rate limit, the sandbox as a connector’s system, a connector’s inbox in memory. `npm test` sets `test`. Production: `production`.',
    ),
  HOST: z
    .string()
    .min(1, 'a host name or IP address')
    .default('127.0.0.1')
    .describe(
      'The interface every app listens on. The default keeps the apps on the loopback interface of a development machine; in a container or behind a load balancer set `0.0.0.0`.',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level of every process. `npm test` sets `silent`; operators usually keep `info` (one line per request, probes excluded).'),
  GATEWAY_PORT: port.default(3000).describe('Port of the gateway (service-hall systems: cases, lookups, verifications, evidence bundles, material links).'),
  REGISTRY_PORT: port.default(3001).describe('Port of the registry (departments and administrators: members, keys, sources, grants, matters, record ingest).'),
  AUDIT_PORT: port.default(3002).describe('Port of the audit app (auditors and citizens: search, verification, checkpoints, reports, access log).'),
  RELAY_PORT: port.default(3003).describe('Port of the relay (outbox publisher, status and record consumers, dead-letter operations).'),
  CONNECTOR_PORT: port
    .default(3004)
    .describe(
      'Port of a connector process (probes and metrics only). `npm start` runs one connector per demo member that receives by Kafka, on this port and the ones after it.',
    ),
  SANDBOX_PORT: port.default(3010).describe('Port of the sandbox (simulated departments and utility systems with synthetic data). Not deployed in production.'),
  DATARUN_LOCAL_DIR: folderPath
    .default('.local')
    .describe('Folder of local state: development keys (`keys/`), audit checkpoint copies and archives (`audit/`), the local infrastructure. Git-ignored.'),
});

export function readProcess(v: z.output<typeof variables>): ProcessConfig {
  return {
    env: v.NODE_ENV,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    ports: {
      gateway: v.GATEWAY_PORT,
      registry: v.REGISTRY_PORT,
      audit: v.AUDIT_PORT,
      relay: v.RELAY_PORT,
      connector: v.CONNECTOR_PORT,
      sandbox: v.SANDBOX_PORT,
    },
    localDir: v.DATARUN_LOCAL_DIR,
  };
}

export const PROCESS_SECTION = defineSection({ name: 'process', owner: 'every app (@datarun/platform)', variables, read: readProcess });
