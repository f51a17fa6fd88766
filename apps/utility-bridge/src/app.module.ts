import { loadMemberSigningKey } from '@datarun/auth';
import { type DatarunConfig, refuseDevelopmentDefaults } from '@datarun/config';
import { PlatformModule, UTILITY_SYSTEM_PROBE } from '@datarun/platform';
import { BRIDGE_OPTIONS, BRIDGE_SIGNER, type BridgeOptions, HttpUtilitySystem, UTILITY_SYSTEM, UtilityBridge } from '@datarun/transfers';
import { type DynamicModule, Module } from '@nestjs/common';

/** Reference connector a utility runs: its request topics, its own system, the status topic. */
@Module({})
export class UtilityBridgeModule {
  static forRoot(config: DatarunConfig, options: BridgeOptions = { exitOnCrash: false }): DynamicModule {
    // The sandbox's simulation of the utility and the demo city's member serve development and tests only.
    refuseDevelopmentDefaults(config, ['utility-system', 'utility-member']);
    // The utility's own key signs its statuses and dead letters: read once, at boot (production stops without it).
    const { id, keyId, privateKey } = config.utilityMember;
    const signer = loadMemberSigningKey(config, { member: id, kid: keyId, file: privateKey, variable: 'UTILITY_MEMBER_KEY' });
    return {
      module: UtilityBridgeModule,
      imports: [
        // The database holds this bridge's inbox (in production: the utility's own database).
        PlatformModule.forRoot(config, { app: `utility-bridge-${config.utilityKind}`, dependencies: ['kafka', 'database', 'utility-system'] }),
      ],
      providers: [
        { provide: UTILITY_SYSTEM, useValue: new HttpUtilitySystem(config.utilitySystemUrl) },
        { provide: UTILITY_SYSTEM_PROBE, useExisting: UTILITY_SYSTEM },
        { provide: BRIDGE_OPTIONS, useValue: options },
        { provide: BRIDGE_SIGNER, useValue: signer },
        UtilityBridge,
      ],
    };
  }
}
