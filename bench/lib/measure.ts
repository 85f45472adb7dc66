import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (100 on Linux almost everywhere). */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (children it waited for are not counted). */
export function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name (index 0: state, 1: ppid, 11–14: utime, stime, cutime, cstime). */
function statFields(pid: number): string[] {
  // The command name may hold spaces; the fields after its closing parenthesis are fixed.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The parent of a process (its ppid), or undefined when it is not visible here (gone, or another PID namespace). */
export function parentPidOf(pid: number): number | undefined {
  try {
    return Number(statFields(pid)[1]);
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process and of its children, those alive now (their own utime + stime, listed by `pgrep -P`) and
 * those that exited and were waited for (the root's cutime + cstime): a server that forks a process per connection
 * (PostgreSQL) is charged for connections opened and closed between two samples as well. Undefined when the root is
 * not visible from here.
 */
export function treeCpuSecondsOf(rootPid: number): number | undefined {
  let fields: string[];
  try {
    fields = statFields(rootPid);
  } catch {
    return undefined;
  }
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(rootPid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when there are no children.
  }
  for (const child of children) {
    try {
      const f = statFields(child);
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // Exited since pgrep listed it: its CPU moves to the root's cutime once reaped.
    }
  }
  return ticks / ticksPerSecond;
}

/** Busy and total CPU time of the whole machine so far, in seconds summed over its cores (/proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / ticksPerSecond, total: (busy + idle! + iowait!) / ticksPerSecond };
}

/** Peak resident memory (VmHWM) of a process, MiB. */
export function peakRssMiBOf(pid: number): number {
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

/** Current resident memory (VmRSS) of a process, MiB. */
export function rssMiBOf(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `work` for every item with at most `concurrency` in flight, in order of start. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** A markdown table from rows of cells. */
export function markdownTable(
  header: readonly string[],
  align: readonly ('l' | 'r')[],
  rows: readonly (readonly string[])[],
): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
