import { isCredentialName } from '@fanout/core';
import type { z } from 'zod';
import { suggestField } from './field-suggestions.js';

/** One problem in a DeliveryFlow document. */
export interface FlowIssue {
  /** Where, in the `spec.destinations[2].retry.attempts` form; empty for the whole document or file. */
  readonly path: string;
  /** What was expected and what was found, on one line. */
  readonly message: string;
}

/** `['spec', 'destinations', 2, 'url']` → `spec.destinations[2].url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (/^[A-Za-z0-9_-]+$/.test(key)) return index === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}

/** A value as a message shows it: short, and never a whole mapping or list. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/**
 * The messages for issues the schema does not word itself. Like the schema's own, they say
 * only what was expected; `toFlowIssues` adds what was found.
 */
export const expectationMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}` : `expected one of ${issue.values.join(', ')}`;
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options) ? `expected one of ${issue.options.join(', ')}` : undefined;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return undefined;
  }
};

/**
 * Turns zod's issues into one issue per problem, with full paths. `templates` maps the paths
 * of strings that had `${env:…}` substituted to what was written, so a bad secret or URL is
 * reported by its template, never by its value.
 */
export function toFlowIssues(error: z.ZodError, templates: ReadonlyMap<string, string>): FlowIssue[] {
  return error.issues.flatMap((issue): FlowIssue[] => {
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => {
          const suggestion = suggestField(issue.path, key, issue.input);
          return { path: formatPath([...issue.path, key]), message: suggestion ? `unknown field; did you mean ${suggestion}?` : 'unknown field' };
        });
      case 'invalid_key':
        return [{ path: formatPath(issue.path), message: `${issue.issues[0]?.message ?? issue.message}, got ${describeValue(issue.path.at(-1))}` }];
      default: {
        const path = formatPath(issue.path);
        // Only messages that say what was expected get what was found; "… is not supported yet" and the like stand alone.
        return [{ path, message: issue.message.startsWith('expected ') ? `${issue.message}${found(issue, templates.get(path))}` : issue.message }];
      }
    }
  });
}

function found(issue: z.core.$ZodIssue, template: string | undefined): string {
  if (template !== undefined) return `, got ${describeValue(template)} after substitution (value not shown)`;
  const input = issue.code === 'invalid_union' && issue.discriminator !== undefined ? discriminatorOf(issue.input, issue.discriminator) : issue.input;
  if (input === undefined) return ', but it is missing';
  // A header such as Authorization or a field such as secret: what was written there is a credential.
  const name = issue.path.findLast((segment) => typeof segment === 'string');
  if (name !== undefined && isCredentialName(name)) return ' (value not shown)';
  return `, got ${describeValue(input)}`;
}

// A discriminated union reports the whole object; the message is about its discriminator.
function discriminatorOf(input: unknown, key: string): unknown {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : input;
}
