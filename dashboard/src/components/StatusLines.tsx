import type { LiveStatus } from '../api.js';

/** Where a dashboard's data load stands. */
export type Load = { status: 'loading' } | { status: 'ready' } | { status: 'error'; message: string };

const LIVE_TEXT: Record<LiveStatus, [string, string]> = {
  live: ['●', 'Live'],
  connecting: ['○', 'Connecting…'],
  offline: ['✕', 'Offline — reload to retry'],
};

/** The live-update indicator of a dashboard's header (a glyph, so it reads without colour). */
export function LiveIndicator({ live }: { live: LiveStatus }) {
  const [glyph, text] = LIVE_TEXT[live];
  return (
    <p className={`live live-${live}`} role="status" data-testid="live">
      <span aria-hidden="true">{glyph} </span>
      {text}
    </p>
  );
}

/** The alert shown when `api` (e.g. "node") did not answer, with the error and a Retry button. */
export function ApiErrorBanner(p: { api: string; message: string; onRetry(): void }) {
  return (
    <div role="alert" className="banner error">
      <p>
        <strong>The {p.api} API did not answer.</strong> {p.message}
      </p>
      <button type="button" onClick={p.onRetry}>
        Retry
      </button>
    </div>
  );
}
