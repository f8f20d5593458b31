/** The read-only REST API of the node role. `roles/http-server.ts` serves it. */
import type { Type } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { HealthController } from './health.controller.js';
import { NodeInfoController } from './node-info.controller.js';
import { OpenApiController } from './openapi.controller.js';
import { VolumesController } from './volumes.controller.js';

export { API_CONTEXT, type ApiContext } from './api-context.js';
export { ApiErrorFilter } from './api-error.filter.js';
export { IssuerCheck } from './issuer-check.js';
export { VolumeIndex, type VolumeIndexDeps } from './volume-index.js';
export type { PublishFailure } from './volume-view.js';

export const API_CONTROLLERS: Type[] = [
  VolumesController,
  NodeInfoController,
  EventsController,
  HealthController,
  OpenApiController,
];
