// Embedded mode with worker child processes: a child publishes through IpcSink (Node's IPC channel,
// `process.send`), the parent forwards to its in-process transport with bridgeChild(). Same
// EventPublisher/TrialReporter in the child as over NATS; no server anywhere.
import type { ChildProcess } from 'node:child_process';
import type { EventSink, OutboundMessage } from './transport.ts';

const TYPE = 'esweep-event';

interface IpcEvent {
  type: typeof TYPE;
  subject: string;
  msgId: string;
  /** base64 body */
  data: string;
}

function isIpcEvent(value: unknown): value is IpcEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === TYPE &&
    typeof (value as IpcEvent).subject === 'string' &&
    typeof (value as IpcEvent).msgId === 'string' &&
    typeof (value as IpcEvent).data === 'string'
  );
}

/** Child side: resolves once the message is handed to the IPC channel (rejects if it is closed). */
export class IpcSink implements EventSink {
  constructor(private readonly proc: NodeJS.Process = process) {
    if (!proc.send) throw new Error('IpcSink needs a process started with an IPC channel');
  }

  send(message: OutboundMessage): Promise<void> {
    const payload: IpcEvent = {
      type: TYPE,
      subject: message.subject,
      msgId: message.msgId,
      data: Buffer.from(message.data).toString('base64'),
    };
    return new Promise((resolve, reject) => {
      this.proc.send!(payload, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}

/** Parent side: forwards the child's events to `sink` (e.g. the MemoryTransport). Returns a detach. */
export function bridgeChild(
  child: ChildProcess,
  sink: EventSink,
  onError?: (error: unknown) => void,
): () => void {
  const listener = (message: unknown) => {
    if (!isIpcEvent(message)) return;
    sink
      .send({
        subject: message.subject,
        msgId: message.msgId,
        data: new Uint8Array(Buffer.from(message.data, 'base64')),
      })
      .catch((error: unknown) => onError?.(error));
  };
  child.on('message', listener);
  return () => child.off('message', listener);
}
