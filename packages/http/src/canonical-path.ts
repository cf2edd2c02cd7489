/** How many rounds of percent-decoding a path gets: `%2566lows` is `/flows` to a server that decodes twice. */
const DECODE_ROUNDS = 3;

/**
 * A request path as a guard must see it, whatever its spelling: percent-decoded (again while
 * that changes it), `\` read as `/`, empty, `.` and `..` segments resolved, lower-cased
 * (Express routes ignore case). Undefined when it is not valid percent-encoded UTF-8.
 * `/ADMIN//queues/./api/%71ueues/` → `/admin/queues/api/queues`.
 */
export function canonicalPath(path: string): string | undefined {
  let decoded = path;
  for (let round = 0; round < DECODE_ROUNDS && decoded.includes('%'); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return undefined;
    }
  }
  const segments: string[] = [];
  for (const segment of decoded.replaceAll('\\', '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment.toLowerCase());
  }
  return `/${segments.join('/')}`;
}

/** Whether a canonical path is `prefix` or below it: `/flows/payments` is under `/flows`, `/flowsx` is not. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}
