import { loadConfig } from './config.js';
import { ConfigError } from './config-error.js';

describe('loadConfig', () => {
  it("reads Kafka's replication and security: the broker's defaults and no TLS or SASL unless set", () => {
    expect(loadConfig({}).kafka).toMatchObject({ replicationFactor: -1, minInsyncReplicas: 1 });
    expect(loadConfig({}).kafka).not.toHaveProperty('tls');
    expect(loadConfig({}).kafka).not.toHaveProperty('sasl');
    expect(
      loadConfig({
        KAFKA_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_TLS: 'true',
        KAFKA_TLS_CA_FILE: '/etc/datarun/kafka-ca.pem',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'relay',
        KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka-relay',
      }).kafka,
    ).toMatchObject({
      replicationFactor: 3,
      minInsyncReplicas: 2,
      tls: { caFile: '/etc/datarun/kafka-ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'relay', passwordFile: '/run/secrets/kafka-relay' },
    });
  });

  it('serves the local machine with defaults', () => {
    const c = loadConfig({});
    expect(c.ports).toEqual({ gateway: 3000, registry: 3001, audit: 3002, relay: 3003, connector: 3004, sandbox: 3010 });
    expect(c.database.ownerUrl).toBe('postgres://postgres@127.0.0.1:5432/datarun');
    expect(c.database.url).toBe('postgres://datarun_app@127.0.0.1:5432/datarun');
    expect(c.database.appRole).toBe('datarun_app');
    expect(c.database.auditUrl).toBe('postgres://datarun_audit@127.0.0.1:5432/datarun');
    expect(c.database.auditRole).toBe('datarun_audit');
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    // No connector runs without its member: every other app ignores the section.
    expect(c.connector).toEqual({ commit: { messages: 20, ms: 1000 }, retry: { baseMs: 1000, maxMs: 300_000, budgetMs: 86_400_000 } });
  });

  it("derives a connector's key, inbox and system from its member, the sandbox standing in for its system", () => {
    const water = loadConfig({ CONNECTOR_MEMBER_ID: 'zj.demo.water', CONNECTOR_UTILITY_KIND: 'water', SANDBOX_PORT: '4010' }).connector.member;
    expect(water).toEqual({
      id: 'zj.demo.water',
      utilityKind: 'water',
      privateKey: '.local/keys/zj.demo.water.key.pem',
      keyId: 'zj.demo.water',
      systemUrl: 'http://127.0.0.1:4010/v1/utilities/water',
      inbox: '.local/connector/zj.demo.water.sqlite',
    });
    const renshe = loadConfig({ CONNECTOR_MEMBER_ID: 'zj.demo.renshe', DATARUN_LOCAL_DIR: '/srv/d' }).connector.member;
    expect(renshe).toEqual({
      id: 'zj.demo.renshe',
      privateKey: '/srv/d/keys/zj.demo.renshe.key.pem',
      keyId: 'zj.demo.renshe',
      systemUrl: 'http://127.0.0.1:3010/v1/recipients/zj.demo.renshe',
      inbox: '/srv/d/connector/zj.demo.renshe.sqlite',
    });
    const given = loadConfig({
      CONNECTOR_MEMBER_ID: 'zj.city.water',
      CONNECTOR_MEMBER_KEY: '/run/secrets/water.pem',
      CONNECTOR_MEMBER_KEY_ID: 'w-2026',
      CONNECTOR_SYSTEM_URL: 'https://crm.water.example/datarun/',
      CONNECTOR_INBOX: ':memory:',
    }).connector.member;
    expect(given).toMatchObject({ privateKey: '/run/secrets/water.pem', keyId: 'w-2026', systemUrl: 'https://crm.water.example/datarun', inbox: ':memory:' });
  });

  it('derives the application URL from the owner URL when only that is given', () => {
    const c = loadConfig({ DATABASE_OWNER_URL: 'postgres://owner:pw@db.example:6432/x' });
    expect(c.database.url).toBe('postgres://datarun_app@db.example:6432/x');
    expect(c.database.ownerUrl).toBe('postgres://owner:pw@db.example:6432/x');
  });

  it('uses DATABASE_URL for both roles when no owner URL is given', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://app@h:5432/d' });
    expect(c.database.ownerUrl).toBe('postgres://app@h:5432/d');
    expect(c.database.appRole).toBe('app');
    // One role for everything cannot be split: the audit app connects as it too.
    expect(c.database.auditUrl).toBe('postgres://app@h:5432/d');
  });

  it('derives the audit role from the application URL, or takes DATABASE_AUDIT_URL', () => {
    const owner = 'postgres://owner:pw@db.example:6432/x';
    expect(loadConfig({ DATABASE_OWNER_URL: owner, DATABASE_URL: 'postgres://app:secret@pool.example:6432/x' }).database.auditUrl).toBe(
      'postgres://datarun_audit@pool.example:6432/x',
    );
    const given = loadConfig({ DATABASE_OWNER_URL: owner, DATABASE_AUDIT_URL: 'postgres://auditor:pw@db.example:6432/x' }).database;
    expect([given.auditUrl, given.auditRole]).toEqual(['postgres://auditor:pw@db.example:6432/x', 'auditor']);
  });

  it.each([
    [{ DATABASE_AUDIT_URL: 'postgres://Robert@h/d' }, 'DATABASE_AUDIT_URL'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS'],
    [{ GATEWAY_PORT: '70000' }, 'GATEWAY_PORT'],
    [{ DATABASE_SCHEMA: 'Robert; drop' }, 'DATABASE_SCHEMA'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CONNECTOR_MEMBER_ID: 'Water Company' }, 'CONNECTOR_MEMBER_ID'],
    [{ CONNECTOR_UTILITY_KIND: 'Water' }, 'CONNECTOR_UTILITY_KIND'],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, 'KAFKA_REPLICATION_FACTOR'],
    [{ KAFKA_REPLICATION_FACTOR: '2', KAFKA_MIN_INSYNC_REPLICAS: '3' }, 'KAFKA_MIN_INSYNC_REPLICAS'],
    [{ KAFKA_TLS_CA_FILE: '/etc/ca.pem' }, 'KAFKA_TLS_CA_FILE'],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka' }, 'KAFKA_SASL_USERNAME'],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'relay' }, 'KAFKA_SASL_PASSWORD_FILE'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'relay', KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka' }, 'KAFKA_SASL_MECHANISM'],
  ])('names the bad variable in one line: %j', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message.startsWith(`${variable}: expected `)).toBe(true);
    expect((error as Error).message).not.toContain('\n');
  });
});
