import { EventPattern } from '@nestjs/microservices';

/**
 * `@EventPattern` for stream subjects: the handler receives `(data: Uint8Array, ctx: JetStreamContext)`
 * for every message stored on one of the subjects, in stream order.
 */
export const OnStreamMessage = (...subjects: string[]): MethodDecorator => EventPattern<string[]>(subjects);
