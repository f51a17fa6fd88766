import { readFileSync } from 'node:fs';
import { ConfigError, type DatarunConfig } from '@datarun/config';
import type { KafkaConfig, SASLOptions } from 'kafkajs';

/**
 * TLS and SASL as the configuration asks (KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_SASL_*): the CA and
 * the password are read from their files once, here, and a file that cannot be read is a
 * ConfigError naming its variable.
 */
export function securityOf(config: Pick<DatarunConfig['kafka'], 'tls' | 'sasl'>): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const read = (variable: string, file: string, expected: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw ConfigError.inFile(variable, expected, file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
    }
  };
  return {
    ...(config.tls ? { ssl: config.tls.caFile ? { ca: [read('KAFKA_TLS_CA_FILE', config.tls.caFile, 'a PEM CA certificate')] } : true } : {}),
    ...(config.sasl
      ? {
          sasl: {
            mechanism: config.sasl.mechanism,
            username: config.sasl.username,
            password: read('KAFKA_SASL_PASSWORD_FILE', config.sasl.passwordFile, 'the SASL password').split('\n')[0],
          } as SASLOptions,
        }
      : {}),
  };
}
