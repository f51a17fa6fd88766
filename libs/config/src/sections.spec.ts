import { z } from 'zod';
import { CONFIG_SECTIONS, CONFIG_VARIABLES, DERIVED_DEFAULTS, loadConfig, sectionOf } from './config.js';
import { defaultGatewayWorkers } from './sections/gateway.js';

describe('configuration sections', () => {
  it('declare every variable exactly once, each described', () => {
    const declared = CONFIG_SECTIONS.flatMap((s) => Object.keys(s.variables.shape));
    expect(declared).toEqual(Object.keys(CONFIG_VARIABLES.shape));
    expect(new Set(declared).size).toBe(declared.length);
    for (const [name, schema] of Object.entries(CONFIG_VARIABLES.shape))
      expect([name, (schema as z.ZodType).description?.length ?? 0]).toEqual([name, expect.any(Number)]);
    expect(sectionOf('KAFKA_BROKERS').name).toBe('kafka');
    expect(sectionOf('DATARUN_SUBJECT_HASH_KEY').name).toBe('keys');
  });

  it('derive only their own variables', () => {
    for (const variable of Object.keys(DERIVED_DEFAULTS) as Array<keyof typeof DERIVED_DEFAULTS>) {
      expect(sectionOf(variable).derived).toHaveProperty(variable);
    }
  });

  it('compose one configuration, each section its own part', () => {
    const config = loadConfig({
      DATARUN_LOCAL_DIR: '/srv/d',
      GATEWAY_PORT: '4000',
      SANDBOX_PORT: '4010',
      CONNECTOR_MEMBER_ID: 'zj.demo.gas',
      CONNECTOR_UTILITY_KIND: 'gas',
    });
    expect(config.keys.subjectHashKey).toBe('/srv/d/keys/subject-hash.key');
    expect(config.audit.archiveDir).toBe('/srv/d/audit/archive');
    expect(config.transfers.gatewayPublicUrl).toBe('http://127.0.0.1:4000');
    expect(config.connector.member?.systemUrl).toBe('http://127.0.0.1:4010/v1/utilities/gas');
    expect(config.gatewayWorkers).toBe(defaultGatewayWorkers());
    expect(config.sandbox).toMatchObject({ people: 2000, seed: 42 });
  });
});

describe('the gateway workers default', () => {
  it('leaves half the cores to PostgreSQL, and runs at least one process', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultGatewayWorkers(cores))).toEqual([1, 1, 1, 2, 8]);
    expect(loadConfig({ GATEWAY_WORKERS: '3' }).gatewayWorkers).toBe(3);
  });
});
