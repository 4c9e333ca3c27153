/**
 * Who asked for an input: its `metadata.actor` (a token's name or a JWT's subject over HTTP, the NATS
 * user for the CLI). Outcomes and the audit repeat it. Over HTTP the service writes it from the
 * authenticated caller; over NATS it is what the publisher says.
 */

/** An input's metadata.actor, when that is a non-empty text. */
export function actorOf(body: unknown): string | undefined {
  const actor = (body as { metadata?: { actor?: unknown } } | null)?.metadata?.actor;
  return typeof actor === 'string' && actor !== '' ? actor : undefined;
}

/** The body with metadata.actor set to `actor` (a copy; one it carried is replaced); as it is without one. */
export function withActor<T>(body: T, actor: string | undefined): T {
  if (actor === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const b = body as { metadata?: unknown };
  const metadata = typeof b.metadata === 'object' && b.metadata !== null ? b.metadata : {};
  return { ...b, metadata: { ...metadata, actor } } as T;
}
