import { postgresAdapter } from './adapters.js';
import { consumerGroupConformance } from './group-conformance.js';

consumerGroupConformance(postgresAdapter);
