import { Controller, Inject, Sse, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { API_CONTEXT, type ApiContext } from './api-context.js';

/** Every this often a `ping` event keeps proxies (and `kubectl port-forward`) from closing the stream. */
export const HEARTBEAT_MS = 15_000;
/** Upper bound of concurrent event streams, so a misbehaving client cannot exhaust the node. */
export const MAX_STREAMS = 64;

/**
 * `GET /api/v1/events`: server-sent events. `hello` first (or `rejected` and the end of the stream when
 * MAX_STREAMS are open), then `volume` events
 * (`{type:'upsert', volume}` or `{type:'delete', volumeId, nodeId}`) as volumes are published,
 * renewed and unpublished, and `ping` heartbeats.
 */
@Controller('api/v1')
export class EventsController {
  constructor(@Inject(API_CONTEXT) private readonly api: ApiContext) {}

  @Sse('events')
  events(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((sub) => {
      if (this.api.index.subscriberCount >= MAX_STREAMS) {
        sub.next({ type: 'rejected', data: { message: `too many event streams (${MAX_STREAMS})` } });
        sub.complete();
        return;
      }
      sub.next({
        type: 'hello',
        data: { nodeId: this.api.node.nodeId, now: new Date().toISOString() },
        retry: 3000,
      });
      const off = this.api.index.onEvent((e) => sub.next({ type: 'volume', data: e }));
      const beat = setInterval(
        () => sub.next({ type: 'ping', data: { now: new Date().toISOString() } }),
        HEARTBEAT_MS,
      );
      beat.unref();
      return () => {
        off();
        clearInterval(beat);
      };
    });
  }
}
