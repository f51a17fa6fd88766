import type { DatarunConfig } from '@datarun/config';
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { KafkaMessaging } from './kafka-messaging.js';

@Injectable()
class MessagingShutdown implements OnApplicationShutdown {
  constructor(@Inject(KafkaMessaging) private readonly messaging: KafkaMessaging) {}

  async onApplicationShutdown(): Promise<void> {
    await this.messaging.close();
  }
}

@Module({})
export class MessagingModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: KafkaMessaging,
          inject: [PinoLogger],
          useFactory: (logger: PinoLogger) => new KafkaMessaging(config.kafka, logger.logger),
        },
        MessagingShutdown,
      ],
      exports: [KafkaMessaging],
    };
  }
}
