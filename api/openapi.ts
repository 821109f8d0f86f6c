/**
 * OpenAPI 3.1 from zod schemas: every router describes its routes as RouteDocs (the same zod
 * schemas it validates with), and /openapi.json is built from all of them.
 */
import { z } from 'zod';

type Schema = z.ZodType;

/** Who may call an operation: bearer tokens (the admin's, a partner's, a station's key), or a station key in the query. */
export type AuthScheme = 'admin' | 'partner' | 'station' | 'stationPassword' | 'stationBasic';

export const SECURITY_SCHEMES: Record<AuthScheme, Record<string, unknown>> = {
  admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
  partner: { type: 'http', scheme: 'bearer', description: "a partner's token (pt-….…)" },
  station: { type: 'http', scheme: 'bearer', description: "a station's key (<station id>.…)" },
  stationPassword: { type: 'apiKey', in: 'query', name: 'PASSWORD', description: "a station's key (Weather-Underground protocol)" },
  stationBasic: { type: 'http', scheme: 'basic', description: "the station id as the user, its key as the password (Sensor.Community's airRohr firmware)" },
};

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. `/v1/stations/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Query parameters: an object schema whose keys are the parameter names. */
  query?: z.ZodObject;
  /** Path parameters, likewise. */
  params?: z.ZodObject;
  /** Header parameters, likewise (names as sent, e.g. `x-api-key`). */
  headers?: z.ZodObject;
  body?: { description?: string; content: Record<string, Schema | undefined> };
  /** The credentials it takes (any one of `schemes`); `optional`: also callable without. Absent: public. */
  auth?: { schemes: AuthScheme[]; optional?: boolean };
  /** By status code; `content` maps a media type to its schema (undefined: no schema). */
  responses: Record<string, { description: string; content?: Record<string, Schema | undefined>; headers?: Record<string, string> }>;
}

function jsonSchema(s: Schema, io: 'input' | 'output'): Record<string, unknown> {
  const js = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete js.$schema;
  return js;
}

function parameters(where: 'query' | 'path' | 'header', o: z.ZodObject | undefined): unknown[] {
  if (!o) return [];
  const js = jsonSchema(o, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: where, required: where === 'path' || (js.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

function content(c: Record<string, Schema | undefined> | undefined, io: 'input' | 'output'): Record<string, unknown> | undefined {
  if (!c) return undefined;
  return Object.fromEntries(Object.entries(c).map(([type, s]) => [type, s ? { schema: jsonSchema(s, io) } : {}]));
}

export function openApiDocument(info: { title: string; version: string; description?: string }, docs: readonly RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of docs) {
    const item = (paths[d.path] ??= {});
    item[d.method] = {
      summary: d.summary,
      ...(d.description ? { description: d.description } : {}),
      ...(d.tags ? { tags: d.tags } : {}),
      ...(d.auth ? { security: [...(d.auth.optional ? [{}] : []), ...d.auth.schemes.map((s) => ({ [s]: [] }))] } : {}),
      parameters: [...parameters('path', d.params), ...parameters('query', d.query), ...parameters('header', d.headers)],
      ...(d.body ? { requestBody: { required: true, ...(d.body.description ? { description: d.body.description } : {}), content: content(d.body.content, 'input') } } : {}),
      responses: Object.fromEntries(Object.entries(d.responses).map(([status, r]) => [status, {
        description: r.description,
        ...(r.content ? { content: content(r.content, 'output') } : {}),
        ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, desc]) => [h, { description: desc, schema: { type: 'string' } }])) } : {}),
      }])),
    };
  }
  return { openapi: '3.1.0', info, paths, components: { securitySchemes: SECURITY_SCHEMES } };
}

/** The error body every endpoint answers with (Open-Meteo's shape plus a stable code). */
export const errorSchema = z.object({ error: z.literal(true), code: z.string(), reason: z.string() });
