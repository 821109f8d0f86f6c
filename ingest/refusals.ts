/**
 * Every submission refused, counted by path and reason (Prometheus counter
 * `ingest_refusals_total{path, reason}` in prom-client's default registry, which /metrics serves),
 * and every reading accepted (`ingest_accepted_readings_total{path}`).
 */
import client from 'prom-client';

export type SubmissionPath = 'json' | 'arrow' | 'wunderground' | 'ecowitt' | 'sensor_community' | 'registration';

/** Reasons are a closed set (label values must stay few). */
export type RefusalReason =
  | 'unauthenticated' // no key / token
  | 'wrong_key' // a key or token that does not match
  | 'unknown_station'
  | 'station_disabled'
  | 'not_owner' // a key or token writing for a station it does not own
  | 'passkey_mismatch' // an Ecowitt upload from a console other than the bound one
  | 'malformed' // unparsable body or a field of the wrong type
  | 'impossible_value' // a value outside physical bounds
  | 'missing_temperature'
  | 'too_old' // before the backlog horizon
  | 'in_future'
  | 'too_large' // batch over the limit
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'bus_unavailable' // the bus did not acknowledge in time (Kafka down): 503, retry later
  | 'forbidden'; // an admin-only call without the admin token

function counter(name: string, help: string, labelNames: string[]): client.Counter<string> {
  const existing = client.register.getSingleMetric(name);
  if (existing) return existing as client.Counter<string>;
  return new client.Counter({ name, help, labelNames });
}

const refusals = counter('ingest_refusals_total', 'Submissions (or single readings in them) refused, by path and reason', ['path', 'reason']);
const accepted = counter('ingest_accepted_readings_total', 'Readings accepted and produced to the bus, by path', ['path']);

export function countRefusal(path: SubmissionPath, reason: RefusalReason, n = 1): void {
  refusals.inc({ path, reason }, n);
}

export function countAccepted(path: SubmissionPath, n: number): void {
  if (n > 0) accepted.inc({ path }, n);
}

/** The current count (for tests and the bench). */
export async function refusalCount(path: SubmissionPath, reason: RefusalReason): Promise<number> {
  const v = (await refusals.get()).values.find((x) => x.labels.path === path && x.labels.reason === reason);
  return v?.value ?? 0;
}
