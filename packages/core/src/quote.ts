/** How many characters of a value from outside a message shows before it cuts it short. */
const MAX_QUOTED_CHARS = 64;

/**
 * A value that came from a request (a flow name in a path, a header), as an error message or
 * a log line shows it: in double quotes, at most 64 characters, with every character outside
 * printable ASCII escaped (`\n`, `\u001b`, `\u202e`…), so it can neither break a log line nor
 * change how a terminal or a page displays the rest.
 */
export function quoted(value: string): string {
  const shown = value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}...` : value;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
