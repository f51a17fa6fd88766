import { loadMemberSigningKey } from '@datarun/auth';
import { ConfigError, type DatarunConfig, refuseDevelopmentDefaults } from '@datarun/config';
import { Connector, CONNECTOR_OPTIONS, ConnectorInbox, HttpRecipientSystem, RECIPIENT_SYSTEM } from '@datarun/connector';
import { PlatformModule, RECIPIENT_SYSTEM_PROBE } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** The connector a recipient member runs: its request topics, its own system, the status topic. */
@Module({})
export class ConnectorModule {
  static forRoot(config: DatarunConfig, options: { exitOnCrash: boolean } = { exitOnCrash: false }): DynamicModule {
    const member = config.connector.member;
    if (!member) throw new ConfigError('CONNECTOR_MEMBER_ID', 'the member this connector receives for', undefined);
    // The sandbox's simulation of the member's system, and an inbox in memory, serve development and tests only.
    refuseDevelopmentDefaults(config, ['connector-system', 'connector-inbox']);
    // The member's own key mints its fetch tokens and signs its statuses and dead letters: read once, at boot (production stops without it).
    const signer = loadMemberSigningKey(config, { member: member.id, kid: member.keyId, file: member.privateKey, variable: 'CONNECTOR_MEMBER_KEY' });
    return {
      module: ConnectorModule,
      imports: [
        // Kafka and the member's own system, never datarun's database: its inbox is a file of its own.
        PlatformModule.forRoot(config, { app: `connector-${member.id}`, dependencies: ['kafka', 'recipient-system'] }),
      ],
      providers: [
        { provide: RECIPIENT_SYSTEM, useValue: new HttpRecipientSystem(member.systemUrl) },
        { provide: RECIPIENT_SYSTEM_PROBE, useExisting: RECIPIENT_SYSTEM },
        { provide: CONNECTOR_OPTIONS, useValue: { member, signer, exitOnCrash: options.exitOnCrash } },
        { provide: ConnectorInbox, useFactory: () => new ConnectorInbox(member.inbox) },
        Connector,
      ],
    };
  }
}
