import type { ValidationIssue } from '@lifeline/process-domain';
import { refOf, type El } from './model';

/** Refusals of one import: one issue per element; a flood (a hostile file) is cut short. */
export class ImportIssues {
  static readonly MAX = 100;
  readonly list: ValidationIssue[] = [];
  private dropped = 0;

  /** An element Lifeline cannot run, or a problem with it: `code` stable, `message` what to do instead. */
  refuse(element: El, message: string, code = 'BPMN.UNSUPPORTED'): void {
    this.add({ path: `bpmn.${element.id ?? ''}`, message, code, element: refOf(element) });
  }

  /** A problem with the file as a whole (unreadable XML, no process). */
  file(message: string, code: string): void {
    this.add({ path: 'bpmn', message, code });
  }

  add(issue: ValidationIssue): void {
    if (this.list.length < ImportIssues.MAX) this.list.push(issue);
    else this.dropped += 1;
  }

  get any(): boolean {
    return this.list.length > 0;
  }

  /** The issues, with a last one saying how many were left out. */
  all(): ValidationIssue[] {
    if (this.dropped === 0) return this.list;
    return [
      ...this.list,
      { path: 'bpmn', message: `${this.dropped} more problem(s) not listed`, code: 'BPMN.TOO_MANY_PROBLEMS' },
    ];
  }
}
