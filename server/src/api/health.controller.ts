import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { HealthView } from '@csi-cert-driver/api-contract';
import { API_CONTEXT, type ApiContext } from './api-context.js';
import { registrationCheck } from '../kubelet/registration-server.js';

/**
 * `GET /healthz`: the process serves HTTP. `GET /readyz`: 200 once the CSI socket is served and
 * volume state is recovered, 503 before; with the built-in kubelet registration also 503 while its
 * socket is not served or kubelet refused the registration (kubelet's reason shown). The issuer's
 * reachability is reported, not required.
 */
@Controller()
export class HealthController {
  constructor(@Inject(API_CONTEXT) private readonly api: ApiContext) {}

  @Get('healthz')
  healthz(): HealthView {
    return { status: 'ok', checks: {} };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: { status(code: number): unknown }): Promise<HealthView> {
    const checks: HealthView['checks'] = {
      csi: { ok: this.api.readiness.ready, detail: this.api.readiness.ready ? 'serving' : 'not serving yet' },
      state: { ok: this.api.index.loaded, detail: this.api.index.loaded ? 'recovered' : 'loading' },
    };
    if (this.api.issuer) {
      const i = await this.api.issuer.get();
      checks['issuer'] = {
        ok: i.reachable === true,
        detail: i.reachable
          ? `${i.address} reachable (informational)`
          : `${i.address}: ${i.error} (informational)`,
      };
    }
    const registration = this.api.registration?.state();
    if (registration) checks['registration'] = registrationCheck(registration);
    const ready = checks['csi']!.ok && checks['state']!.ok && (checks['registration']?.ok ?? true);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', checks };
  }
}
