// Nest's decorators and injector read metadata through it; only the roles that use Nest load it.
import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RequestListener } from 'node:http';
import { API_CONTEXT, API_CONTROLLERS, ApiErrorFilter } from '../api/index.js';
import { findDashboardDir, loadAssets, NOT_BUILT_PAGE, type Asset } from '../api/static-assets.js';
import { NestPinoLogger } from './nest-logger.js';
import { MISDIRECTED, hostAllowed } from '../common/host-check.js';
import type { HttpServerOptions } from './http-server.js';

export interface HttpApp {
  app: INestApplication;
  /** Answers one request: the node:http server of http-server.ts hands every request here. */
  handle: RequestListener;
  close(): Promise<void>;
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}
interface Res {
  statusCode: number;
  setHeader(name: string, value: string): void;
  status(code: number): Res;
  json(body: unknown): void;
  end(body?: Buffer | string): void;
}
type Next = () => void;

const READ_METHODS = new Set(['GET', 'HEAD']);
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The read-only REST API, `/openapi.json`, `/healthz`, `/readyz` and the built dashboard (NestJS on
 * Express), initialised but not listening: http-server.ts serves it. Every method but GET and HEAD
 * is answered 405 before routing, so no handler can ever be reached by a mutating verb. CORS is
 * closed unless origins are given. A request whose Host is not an IP literal, localhost or in
 * `allowedHosts` gets 421 first (DNS rebinding, common/host-check.ts).
 */
export async function createHttpApp(o: HttpServerOptions): Promise<HttpApp> {
  @Module({})
  class HttpApiModule {
    static register(): DynamicModule {
      return {
        module: HttpApiModule,
        controllers: API_CONTROLLERS,
        providers: [{ provide: API_CONTEXT, useValue: o.context }],
      };
    }
  }
  const app = await NestFactory.create(HttpApiModule.register(), {
    logger: new NestPinoLogger(o.logger),
    bodyParser: false,
    abortOnError: false,
    forceCloseConnections: true,
  });
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void };
  express.disable('x-powered-by');
  express.disable('etag');
  const cors = o.corsOrigins.length > 0;
  if (cors) app.enableCors({ origin: o.corsOrigins, methods: ['GET', 'HEAD'], maxAge: 600 });

  const allowedHosts = o.allowedHosts ?? [];
  app.use((req: Req, res: Res, next: Next) => {
    const host = req.headers.host;
    if (hostAllowed(typeof host === 'string' ? host : undefined, allowedHosts)) return next();
    res.status(421).json(MISDIRECTED);
  });
  app.use((req: Req, res: Res, next: Next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', CSP);
    if (READ_METHODS.has(req.method) || (cors && req.method === 'OPTIONS')) return next();
    res.setHeader('Allow', 'GET, HEAD');
    res.status(405).json({
      statusCode: 405,
      error: 'Method Not Allowed',
      message: `${req.method} is not allowed: this API is read-only`,
    });
  });

  const { metrics } = o;
  if (metrics) {
    app.use((req: Req, res: Res, next: Next) => {
      if (req.path !== '/metrics') return next();
      metrics().then(
        ({ contentType, body }) => {
          res.setHeader('Content-Type', contentType);
          res.setHeader('Cache-Control', 'no-store');
          res.status(200).end(req.method === 'HEAD' ? undefined : body);
        },
        () => res.status(500).end('metrics scrape failed\n'),
      );
    });
  }

  const dashboardDir = o.dashboardDir ?? findDashboardDir();
  const assets = dashboardDir ? await loadAssets(dashboardDir) : new Map<string, Asset>();
  if (!dashboardDir) o.logger.warn('dashboard not built: / serves a note; the API is unaffected');
  app.use((req: Req, res: Res, next: Next) => {
    if (req.path.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      return next();
    }
    const asset = assets.get(req.path);
    if (!asset) {
      if (req.path !== '/') return next();
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      return res.status(404).end(NOT_BUILT_PAGE);
    }
    res.setHeader('Content-Type', asset.type);
    res.setHeader('ETag', asset.etag);
    res.setHeader('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (req.headers['if-none-match'] === asset.etag) return res.status(304).end();
    res.status(200).end(req.method === 'HEAD' ? undefined : asset.body);
  });
  app.useGlobalFilters(new ApiErrorFilter(o.logger));

  await app.init();
  o.logger.info(
    { cors: cors ? o.corsOrigins : 'closed', dashboard: dashboardDir ?? 'not built' },
    'API loaded',
  );
  return {
    app,
    handle: app.getHttpAdapter().getInstance() as RequestListener,
    async close() {
      await app.close();
    },
  };
}
