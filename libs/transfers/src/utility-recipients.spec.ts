import { DEMO_MEMBERS } from '@datarun/auth';
import { loadConfig } from '@datarun/config';
import { requestTopic, STATUS_TOPIC } from './topics.js';
import { UtilityRecipients } from './utility-recipients.js';

describe('utility recipients', () => {
  it("defaults to the demo city's utility members, the ones npm start seeds with keys and the connectors sign as", () => {
    const config = loadConfig({});
    const demo = DEMO_MEMBERS.filter((m) => m.kind === 'utility');
    expect(config.transfers.utilityRecipients).toEqual(Object.fromEntries(demo.map((m) => [m.domain, m.id])));
  });

  it('reads UTILITY_RECIPIENTS and refuses a kind named twice or a malformed list, naming the variable', () => {
    expect(loadConfig({ UTILITY_RECIPIENTS: 'water=zj.city.water,heat=zj.city.heat' }).transfers.utilityRecipients).toEqual({
      water: 'zj.city.water',
      heat: 'zj.city.heat',
    });
    for (const bad of ['water=zj.a,water=zj.b', 'water', 'water=', 'Water=zj.a', 'water=zj.a;gas=zj.b']) {
      expect(() => loadConfig({ UTILITY_RECIPIENTS: bad })).toThrow(/^UTILITY_RECIPIENTS: /);
    }
  });

  it("knows each kind's member and the request topics a member receives on", () => {
    const recipients = new UtilityRecipients(loadConfig({ UTILITY_RECIPIENTS: 'water=zj.city.water,gas=zj.city.gas' }));
    expect(recipients.memberOf('water')).toBe('zj.city.water');
    expect(recipients.memberOf('electricity')).toBeUndefined();
    expect(recipients.receivesOn('zj.city.water', requestTopic('water', 'transfer'))).toBe(true);
    expect(recipients.receivesOn('zj.city.water', requestTopic('water', 'discount'))).toBe(true);
    expect(recipients.receivesOn('zj.city.water', requestTopic('gas', 'transfer'))).toBe(false);
    expect(recipients.receivesOn('zj.city.water', STATUS_TOPIC)).toBe(false);
  });
});
