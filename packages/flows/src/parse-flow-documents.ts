import { parseAllDocuments, type YAMLError } from 'yaml';
import { substituteEnv } from './env.js';
import { FlowLoadError } from './errors.js';
import type { Flow } from './flow.js';
import { expectationMessages, toFlowIssues, type FlowIssue } from './issues.js';
import { resolveFlow } from './resolve-flow.js';
import { deliveryFlowSchema } from './schema.js';

/** A loaded flow and where it was written, so a duplicate name can point at both places. */
export interface LocatedFlow {
  readonly flow: Flow;
  readonly file: string;
  readonly document: number;
}

/**
 * The flows of one YAML text (any number of `---`-separated documents; empty ones are skipped).
 * `file` only labels error messages. Throws `FlowLoadError` at the first invalid document.
 */
export function parseFlowDocuments(text: string, file: string, env: NodeJS.ProcessEnv = process.env): readonly Flow[] {
  return uniqueFlows(readFlowDocuments(text, file, env));
}

export function readFlowDocuments(text: string, file: string, env: NodeJS.ProcessEnv): LocatedFlow[] {
  const located: LocatedFlow[] = [];
  const lines = text.split(/\r?\n/);
  parseAllDocuments(text).forEach((yamlDocument, index) => {
    const document = index + 1;
    const fail = (issues: readonly FlowIssue[]): never => {
      throw new FlowLoadError({ file, document, issues });
    };
    // Only the first: the rest are mostly the parser losing its way after it. Warnings count
    // too, since an unknown tag, say, would otherwise change a value without a word.
    const yamlProblem = yamlDocument.errors[0] ?? yamlDocument.warnings[0];
    if (yamlProblem) fail([yamlIssue(yamlProblem, lines)]);
    const raw: unknown = yamlDocument.toJS();
    // A stream may begin or end with `---`, or hold only comments: nothing to load there.
    if (raw === null || raw === undefined) return;

    const substituted = substituteEnv(raw, env);
    if (substituted.issues.length > 0) fail(substituted.issues);
    const parsed = deliveryFlowSchema.safeParse(substituted.value, { error: expectationMessages, reportInput: true });
    if (!parsed.success) fail(toFlowIssues(parsed.error, substituted.templates));
    else located.push({ flow: resolveFlow(parsed.data, substituted.envTemplates), file, document });
  });
  return located;
}

/** Flow names are the webhook URLs, so they must be unique across every file loaded together. */
export function uniqueFlows(located: readonly LocatedFlow[]): readonly Flow[] {
  const seen = new Map<string, LocatedFlow>();
  for (const entry of located) {
    const first = seen.get(entry.flow.name);
    if (first !== undefined) {
      const message = `flow "${entry.flow.name}" is already defined in ${first.file} document ${first.document}`;
      throw new FlowLoadError({ file: entry.file, document: entry.document, issues: [{ path: 'metadata.name', message }] });
    }
    seen.set(entry.flow.name, entry);
  }
  return Object.freeze(located.map(({ flow }) => flow));
}

function yamlIssue(error: YAMLError, lines: readonly string[]): FlowIssue {
  // yaml's message ends with " at line L, column C:" and a code excerpt on the next lines.
  const summary = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const position = error.linePos?.[0];
  const where = position ? ` at line ${position.line}, column ${position.col}` : '';
  // `{ secret: ${env:X} }` is the likeliest way to get here: braces end a { } mapping early.
  const hint = position && lines[position.line - 1]?.includes('${env:') ? ' (put a value holding ${env:…} inside { } or [ ] in quotes)' : '';
  return { path: '', message: `invalid YAML${where}: ${summary}${hint}` };
}
