/** The hexagon grid and distances; see grid.ts. */
export * from './grid.ts';
export * from './plane.ts';
export * from './sun.ts';
