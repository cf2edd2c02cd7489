const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const SIZE_UNITS_BYTES = { b: 1, kb: 1_024, mb: 1_048_576, gb: 1_073_741_824 } as const;

/** A duration as the DeliveryFlow format writes it: `500ms`, `10s`, `5m`, `1h`, `7d`, or milliseconds as a number. */
export type DurationInput = string | number;
/** A size as the DeliveryFlow format writes it: `512kb`, `1mb`, or bytes as a number. */
export type SizeInput = string | number;

/** Milliseconds of a duration; throws a message fit for a validation error when the input is not one. */
export function parseDuration(value: DurationInput): number {
  if (typeof value === 'number') return requireNonNegativeInteger(value, 'a duration in milliseconds');
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) throw new Error(`expected a duration such as 500ms, 10s, 5m, 1h or 7d, got "${value}"`);
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS]);
}

/** Bytes of a size, with 1kb = 1024 bytes as body-parser counts them. */
export function parseSize(value: SizeInput): number {
  if (typeof value === 'number') return requireNonNegativeInteger(value, 'a size in bytes');
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(value.trim());
  if (!match) throw new Error(`expected a size such as 512kb or 1mb, got "${value}"`);
  return Math.floor(Number(match[1]) * SIZE_UNITS_BYTES[match[2]!.toLowerCase() as keyof typeof SIZE_UNITS_BYTES]);
}

function requireNonNegativeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`expected ${what} (a whole number ≥ 0), got ${value}`);
  return value;
}
