import { sqliteAdapter } from './adapters.js';
import { consumerGroupConformance } from './group-conformance.js';

consumerGroupConformance(sqliteAdapter);
