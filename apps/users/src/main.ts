// First: instrumentation must be in place before http, express and Nest load.
import './tracing';
import { runService } from '@app/platform';
import { service } from './app.module';

void runService(service);
