// Calendar on day numbers (days since 1970-01-01), which keeps the hot loop free of Date objects.

// Math's functions as module bindings: under jest's vm contexts every global lookup goes through
// the sandbox's interceptors, which made a 100,000-person walk several times slower.
const { floor } = Math;

export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floor(y / 400);
  const yoe = y - era * 400;
  const doy = floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
  const mp = floor((5 * doy + 2) / 153);
  const d = doy - floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export const pad = (n: number, width: number): string => `${n}`.padStart(width, '0');

export function isoDate(day: number): string {
  const [y, m, d] = civilFromDays(day);
  return `${y}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function yearOf(day: number): number {
  return civilFromDays(day)[0];
}

export const monthLabel = (index: number): string => `${floor(index / 12)}-${pad((index % 12) + 1, 2)}`;
export const firstOfMonth = (index: number): string => `${monthLabel(index)}-01`;

const MONTH_STARTS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/** Month and day of a day-of-year in a 365-day year (never 29 February). */
export function monthDayOf(dayOfYear: number): [number, number] {
  let month = 1;
  while (MONTH_STARTS[month]! <= dayOfYear) month++;
  return [month, dayOfYear - MONTH_STARTS[month - 1]! + 1];
}
