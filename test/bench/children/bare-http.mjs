// Baseline for test/bench: a bare Fastify server whose one route parses the JSON body and
// returns a constant. Listens on 127.0.0.1 on a free port, reports it over IPC, stops on 'stop'.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/v1/lookups', async () => ({ ok: true }));
app.get('/', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ type: 'listening', port: app.server.address().port });
process.on('message', async (m) => {
  if (m?.type === 'stop') {
    await app.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
