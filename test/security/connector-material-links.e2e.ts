// Hardening, egress of the connector: a utility request arrives on Kafka, and its material links
// are URLs the connector fetches, under its member's token. Whoever can write the request topic
// could plant a request whose "material" points anywhere inside the utility's network (and collect
// the token); the connector fetches only links of datarun's gateway, and dead-letters anything
// else unfetched, its token never sent.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { cloudEvent, type CloudEvent, fromKafkaMessage, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { requestTopic } from '@datarun/transfers';
import { eventually } from '../support/eventually.js';
import { buildTransferWorld, openTransferCase, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(120_000);

describe('the connector fetches material links of datarun only', () => {
  let world: TransferWorld;
  let messaging: KafkaMessaging;
  let inside: Server;
  let insideUrl: string;
  let connections = 0;

  beforeAll(async () => {
    // A service inside the utility's network that nobody outside should make the connector call.
    inside = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve));
    insideUrl = `http://127.0.0.1:${(inside.address() as AddressInfo).port}`;
    world = await buildTransferWorld({ connectors: ['water'] });
    messaging = new KafkaMessaging(world.config.kafka);
  });

  afterAll(async () => {
    await messaging?.close();
    await world?.close();
    await new Promise((resolve) => inside?.close(resolve));
  });

  it('dead-letters a planted request whose material points elsewhere, and calls nothing', async () => {
    const { caseId } = await openTransferCase(world, 'planted');
    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);

    // The genuine request, as the relay published it: the attacker copies its shape.
    const seen: Array<{ key: string; event: CloudEvent }> = [];
    await messaging.consume({
      groupId: `planted-reader-${randomUUID()}`,
      topics: [requestTopic('water', 'transfer')],
      onMessage: async ({ message }) => void seen.push({ key: message.key!.toString(), event: fromKafkaMessage(message) }),
    });
    const genuine = await eventually('the water request on the topic', async () => seen.find((s) => (s.event.data as { caseId: string }).caseId === caseId));
    const data = genuine.event.data as { requestId: string; materials: Array<{ type: string; sha256: string; url: string }> };
    const link = new URL(data.materials[0].url);
    expect(link.origin).not.toBe(new URL(insideUrl).origin);

    const plantedId = randomUUID();
    const planted = {
      ...data,
      requestId: plantedId,
      materials: data.materials.map((m) => ({ ...m, url: `${insideUrl}${link.pathname}${link.search}` })),
    };
    await messaging.publish(requestTopic('water', 'transfer'), [
      toKafkaMessage(cloudEvent({ type: genuine.event.type, source: genuine.event.source, id: plantedId, data: planted }), 'UNIT-planted-2'),
    ]);

    const letters = await eventually(
      'the planted request dead-lettered',
      async () =>
        (await world.city.db.ownerQuery<{ reason: string }>(`SELECT reason FROM dead_letter WHERE message_key = 'UNIT-planted-2'`)).rows.map((r) => r.reason),
      { until: (found) => found.length > 0 },
    );
    expect(letters.join('\n')).toMatch(/not a material link of datarun's gateway/);
    expect(connections).toBe(0);
    // The genuine request goes through (the check refuses only what is not datarun's); the planted never.
    const applied = await eventually(
      'the genuine request applied',
      async () =>
        ((await fetch(`${world.sandboxUrl}/v1/utilities/water/requests`).then((r) => r.json())) as { requests: Array<{ requestId: string }> }).requests.map(
          (r) => r.requestId,
        ),
      { until: (ids) => ids.includes(data.requestId) },
    );
    expect(applied).not.toContain(plantedId);
  });
});
