import { FanoutError } from '@fanout/core';
import type { FlowIssue } from './issues.js';

// Enough to fix several typos in one go, few enough to stay one readable line.
const MAX_ISSUES_IN_MESSAGE = 5;

export interface FlowLoadErrorOptions {
  /** The file as the user named it (or the folder, for errors about the folder itself). */
  readonly file: string;
  /** 1-based position of the YAML document in the file; absent for errors about the file. */
  readonly document?: number | undefined;
  readonly issues: readonly FlowIssue[];
  readonly cause?: unknown;
}

/**
 * A flow that cannot be loaded. The message is one line naming the file, the document,
 * and each problem's path with what was expected:
 * `flows/payments.yaml document 2: spec.destinations[2].retry.attempts: expected a whole number ≥ 1, got 0`.
 */
export class FlowLoadError extends FanoutError {
  readonly file: string;
  readonly document: number | undefined;
  /** The path of the first issue (empty when it concerns the whole document or file). */
  readonly path: string;
  readonly issues: readonly FlowIssue[];

  constructor({ file, document, issues, cause }: FlowLoadErrorOptions) {
    super('FLOW_INVALID', formatMessage(file, document, issues), { cause });
    this.name = 'FlowLoadError';
    this.file = file;
    this.document = document;
    this.path = issues[0]?.path ?? '';
    this.issues = issues;
  }
}

function formatMessage(file: string, document: number | undefined, issues: readonly FlowIssue[]): string {
  const where = document === undefined ? file : `${file} document ${document}`;
  const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map(({ path, message }) => (path === '' ? message : `${path}: ${message}`));
  const hidden = issues.length - shown.length;
  return `${where}: ${shown.join('; ')}${hidden > 0 ? `; and ${hidden} more` : ''}`;
}
