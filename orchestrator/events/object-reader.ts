// Reads the JetStream object store without consumers: an object's metadata is the last message on
// `$O.<bucket>.M.<name>`, its chunks are the messages on `$O.<bucket>.C.<nuid>`, fetched one by one
// with "next message on this subject from this sequence"; the names are the stream's meta subjects.
// @nats-io/obj reads through ephemeral push consumers, and a client allowed to create those can
// point their deliveries at any subject of the account (another trial's events, for instance); with
// these reads a worker needs only stream info and message get (docs/security.md).
import { createHash } from 'node:crypto';
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { z } from 'zod';

/** The object store's stream behind a bucket. */
export const bucketStream = (bucket: string) => `OBJ_${bucket}`;

/** The subject of an object's metadata: the name, base64url with padding (as @nats-io/obj), is one token. */
export function objectMetaSubject(bucket: string, name: string): string {
  const encoded = Buffer.from(name, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return `$O.${bucket}.M.${encoded}`;
}

/** What @nats-io/obj stores as an object's metadata (the fields read here). */
const objectMeta = z.object({
  name: z.string(),
  nuid: z.string(),
  size: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  digest: z.string(),
  deleted: z.boolean().optional(),
  options: z.object({ link: z.unknown().optional() }).loose().optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** The metadata of a live object, null when there is none (or it was deleted). */
export async function objectInfo(
  jsm: JetStreamManager,
  bucket: string,
  name: string,
): Promise<ObjectMeta | null> {
  const message = await jsm.streams.getMessage(bucketStream(bucket), {
    last_by_subj: objectMetaSubject(bucket, name),
  });
  if (!message) return null;
  const meta = objectMeta.parse(message.json());
  if (meta.options?.link) throw new Error(`artifact '${name}' is a link, which esweep does not store`);
  return meta.deleted ? null : meta;
}

/** An object's bytes, checked against its digest; null when there is no such object. */
export async function readObject(
  jsm: JetStreamManager,
  bucket: string,
  name: string,
): Promise<Uint8Array | null> {
  const meta = await objectInfo(jsm, bucket, name);
  if (!meta) return null;
  const out = new Uint8Array(meta.size);
  const hash = createHash('sha256');
  const subject = `$O.${bucket}.C.${meta.nuid}`;
  let offset = 0;
  let seq = 0;
  for (let chunk = 0; chunk < meta.chunks; chunk++) {
    const query = { seq, next_by_subj: subject } as unknown as MsgRequest;
    const message = await jsm.streams.getMessage(bucketStream(bucket), query);
    if (!message) throw new Error(`artifact '${name}' lost chunk ${chunk + 1} of ${meta.chunks}`);
    const data = message.data;
    if (offset + data.byteLength > meta.size) throw new Error(`artifact '${name}' is larger than recorded`);
    out.set(data, offset);
    hash.update(data);
    offset += data.byteLength;
    seq = message.seq + 1;
  }
  const digest = `SHA-256=${hash.digest('base64url')}`;
  if (offset !== meta.size || digest.replace(/=+$/, '') !== meta.digest.replace(/=+$/, '')) {
    throw new Error(`artifact '${name}' is corrupt (its chunks do not match its digest)`);
  }
  return out;
}

/** The names of the live objects whose name starts with `prefix`. */
export async function listObjects(jsm: JetStreamManager, bucket: string, prefix = ''): Promise<ObjectMeta[]> {
  const info = await jsm.streams.info(bucketStream(bucket), { subjects_filter: `$O.${bucket}.M.>` });
  const metaPrefix = `$O.${bucket}.M.`;
  const names = Object.keys(info.state.subjects ?? {})
    .map((subject) => Buffer.from(subject.slice(metaPrefix.length), 'base64url').toString('utf8'))
    .filter((name) => name.startsWith(prefix));
  const metas = await Promise.all(names.map((name) => objectInfo(jsm, bucket, name)));
  return metas.filter((meta): meta is ObjectMeta => meta !== null);
}
