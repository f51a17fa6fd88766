// Baseline for test/bench: a bare node:http server whose one route reads and parses the JSON body
// and returns a constant, the least any HTTP API does. Listens on 127.0.0.1 on a free port,
// reports it over IPC, stops on 'stop'.
import { createServer } from 'node:http';

const answer = JSON.stringify({ ok: true });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
process.on('message', (m) => {
  if (m?.type === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
