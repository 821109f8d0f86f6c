/**
 * How a router joins the API: a factory gets the ports and the configuration, and returns an
 * Express router (mounted at the root, behind the shared middleware: rate limits, CORS,
 * compression, security headers, request logs, metrics, the error catalogue) and the docs of its
 * routes for /openapi.json. In the embedded default the store and the bus live in another thread:
 * `store` and `bus` are then proxies with the same interfaces, so a router works unchanged.
 */
import type { Router } from 'express';
import type { Bus } from '../infra/bus/index.ts';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import type { Store } from '../infra/store/index.ts';
import type { RouteDoc } from './openapi.ts';

/** The producing side of the bus (routers publish; consumers live in the ingest role). */
export type BusProducer = Pick<Bus, 'publish'>;

export interface ApiContext {
  store: Store;
  bus: BusProducer;
  log: Logger;
  config: Config;
  now: () => number;
}

export interface ApiModule {
  router: Router;
  docs: RouteDoc[];
}

export type ApiModuleFactory = (ctx: ApiContext) => ApiModule;
