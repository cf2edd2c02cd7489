import { formatPath, type FlowIssue } from './issues.js';

const REFERENCE = /\$\{env:([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Substituted {
  readonly value: unknown;
  /** The path of every string that had a reference replaced → the string as written. */
  readonly templates: ReadonlyMap<string, string>;
  /** Every string that had a reference replaced, as substituted → as written. */
  readonly envTemplates: ReadonlyMap<string, string>;
  readonly issues: readonly FlowIssue[];
}

/**
 * Replaces every `${env:NAME}` in the string values of a parsed YAML document (never in keys).
 * It runs on values rather than on the YAML text so a secret holding `:` or `#` cannot change
 * the document's structure.
 */
export function substituteEnv(document: unknown, env: NodeJS.ProcessEnv): Substituted {
  const templates = new Map<string, string>();
  const envTemplates = new Map<string, string>();
  const issues: FlowIssue[] = [];

  const visit = (value: unknown, path: readonly PropertyKey[]): unknown => {
    if (typeof value === 'string') return substituteString(value, path);
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
    if (typeof value === 'object' && value !== null) {
      // fromEntries defines own properties, so a `__proto__` key stays a plain (unknown) field.
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key])]));
    }
    return value;
  };

  const substituteString = (template: string, path: readonly PropertyKey[]): string => {
    if (!template.includes('${env:')) return template;
    templates.set(formatPath(path), template);
    const substituted = template.replace(REFERENCE, (reference, name: string) => {
      if (!VARIABLE_NAME.test(name)) {
        issues.push({ path: formatPath(path), message: `expected an environment variable name in ${JSON.stringify(reference)}` });
        return reference;
      }
      const resolved = env[name];
      if (resolved === undefined) issues.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return resolved ?? reference;
    });
    // An empty value says nothing, and would match every empty string of the flow.
    if (substituted !== '') envTemplates.set(substituted, template);
    return substituted;
  };

  return { value: visit(document, []), templates, envTemplates, issues };
}
