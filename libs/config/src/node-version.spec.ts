import { MIN_NODE_MAJOR, unsupportedNode } from './node-version.js';

describe('unsupportedNode', () => {
  it.each(['22.12.0', '24.22.3', '26.1.0'])('accepts Node %s', (version) => {
    expect(unsupportedNode(version)).toBeUndefined();
  });

  it.each(['20.20.2', '18.0.0', '21.7.3', 'garbage', ''])('refuses Node %p with one line naming it', (version) => {
    const line = unsupportedNode(version);
    expect(line).toContain(`Node.js ${MIN_NODE_MAJOR} or newer`);
    expect(line).toContain(version);
    expect(line).not.toContain('\n');
  });

  it('accepts the Node these tests run on (npm test runs on the pinned Node 24)', () => {
    expect(unsupportedNode()).toBeUndefined();
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});
