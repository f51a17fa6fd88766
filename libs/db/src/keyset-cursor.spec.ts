import { parseTimeIdCursor, timeIdCursor } from './keyset-cursor.js';

describe('a (time, id) keyset cursor', () => {
  const at = '2026-12-07T23:59:59.123456Z';
  const id = '6f1c8e9e-3f7a-4d2b-9a61-0c2b3e4d5f60';

  it('gives back the time to the microsecond and the id it was made of', () => {
    expect(parseTimeIdCursor(timeIdCursor(at, id))).toEqual({ at, id });
  });

  it.each([
    ['nothing a page handed out', 'nonsense'],
    ['an id that is no uuid', timeIdCursor(at, 'x')],
    ['a time that is no time', timeIdCursor('yesterday', id)],
    ['no separator', Buffer.from(at).toString('base64url')],
  ])('refuses %s with VALIDATION_FAILED', (_, cursor) => {
    expect(() => parseTimeIdCursor(cursor)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
