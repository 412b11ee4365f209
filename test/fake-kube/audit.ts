// The fake's audit log: one JSON line per mutating request, like kube-apiserver's audit backend at the
// Metadata level reduced to what a test or an operator asks ("who created/deleted what, with what
// answer"). Lines are appended synchronously before the response is sent, so whoever reads the file
// after a response sees that request's line.
import { appendFileSync } from 'node:fs';

export interface AuditEntry {
  time: string;
  /** create, update, patch or delete (a deletecollection is logged as delete). */
  verb: string;
  /** The plural, with the subresource after a slash (`jobs`, `sweeps/status`, `pods/eviction`). */
  resource: string;
  namespace: string | null;
  name: string | null;
  userAgent: string | null;
  code: number;
}

export class AuditLog {
  private readonly kept: AuditEntry[] = [];

  constructor(private readonly file?: string) {}

  record(entry: Omit<AuditEntry, 'time'>): void {
    const line: AuditEntry = { time: new Date().toISOString(), ...entry };
    this.kept.push(line);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }

  /** Every entry so far, oldest first. */
  get entries(): readonly AuditEntry[] {
    return this.kept;
  }
}
