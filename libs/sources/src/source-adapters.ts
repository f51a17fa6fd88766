import { Injectable } from '@nestjs/common';
import { FederatedSourceAdapter } from './federated-source-adapter.js';
import { ReplicaSourceAdapter } from './replica-source-adapter.js';
import type { FetchContext, FetchedRecord, SourceAdapter, SourceDescriptor } from './source-adapter.js';

/** The one entry point of lookups: picks the adapter by the source's mode. */
@Injectable()
export class SourceAdapters implements SourceAdapter {
  constructor(
    readonly federated: FederatedSourceAdapter,
    readonly replica: ReplicaSourceAdapter,
  ) {}

  fetch(source: SourceDescriptor, subject: string, context?: FetchContext): Promise<FetchedRecord | null> {
    return source.mode === 'federated' ? this.federated.fetch(source, subject, context) : this.replica.fetch(source, subject, context);
  }
}
