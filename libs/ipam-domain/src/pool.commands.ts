/**
 * Commands: what an input event asks for. `meta` carries everything a decision may depend on besides
 * the state (the input's stream sequence and its Nats-Msg-Id); decide reads no clock.
 */
export interface CommandMeta {
  /** stream sequence of the input event */
  seq: number;
  /** the input's Nats-Msg-Id, or null */
  id: string | null;
  /** who asked (the input's metadata.actor), when it says */
  actor?: string;
}

export type IpamCommand =
  | { type: 'CreatePool'; data: { pool: unknown }; meta: CommandMeta }
  | { type: 'UpdatePool'; data: { pool: unknown }; meta: CommandMeta }
  | { type: 'DeletePool'; data: { body: unknown }; meta: CommandMeta }
  | { type: 'RequestLoadBalancer'; data: { loadBalancer: unknown }; meta: CommandMeta }
  | { type: 'DeleteLoadBalancer'; data: { body: unknown }; meta: CommandMeta }
  | { type: 'ForceReleaseAddress'; data: { body: unknown }; meta: CommandMeta }
  | { type: 'ImportHistory'; data: { body: unknown }; meta: CommandMeta }
  /** an input that could not be read at all (not JSON, too large): answered with InvalidEvent */
  | {
      type: 'RejectInput';
      /** `code` defaults to InvalidEvent; InternalError when the service failed to decide an input */
      data: {
        target: 'pool' | 'lb' | 'ip';
        name: string;
        reason: string;
        code?: 'InvalidEvent' | 'InternalError';
      };
      meta: CommandMeta;
    };

export type IpamCommandType = IpamCommand['type'];
