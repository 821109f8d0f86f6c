/** Ingest: the reading codec, topics, the worker, and the simulated city that feeds the demo. */
export { decodeReading, encodeReading, decodeBackground, encodeBackground, readingSchema, backgroundSchema, TEMP_MIN_C, TEMP_MAX_C, type Reading, type BackgroundValue, type Decoded } from './reading.ts';
export { topicNames, topicSpecs, partitionKey, type Topics } from './topics.ts';
export { startIngestWorker, type IngestWorker, type IngestOptions, type IngestStats } from './worker.ts';
export { OFFICIAL_INTERVAL_MS, createCity, trueTempC, backgroundTempC, readingInSlot, slotsBetween, type City, type SimSensor, type SimReading } from './sim/city.ts';
export { startSimulatedFeed, type Feed } from './sim/feed.ts';
export { uniform, normal } from './sim/random.ts';
