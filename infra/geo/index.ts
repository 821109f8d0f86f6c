/** The hexagon grid and distances; see grid.ts. */
export * from './grid.ts';
