/** The reference implementations (titanlib, gridpp) for tests and comparisons; see reference.ts. */
export { referencePython, referencePythonForTests, runReference, jsonNumbers, ReferenceError, type ReferenceErrorCode, type ReferenceCase, type ReferencePoints, type BuddyCheckCase, type SctCase, type OiCase, type BuddyCheckResult, type SctResultRef, type OiResultRef, type ReferenceVersions } from './reference.ts';
export { seededUniform, seededNormal, stationSet, type StationSet, type StationSetOptions } from './seeded-cases.ts';
