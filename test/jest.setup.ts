import { checkResponsesAgainstDocuments } from '@app/testing';

// The e2e suites wait on real servers, processes and timeouts: a slow or busy machine must not
// fail them on jest's 5 s default. Each test still bounds what it measures itself.
jest.setTimeout(30_000);

// Every response of an app booted by createTestApp must match the app's own OpenAPI document.
checkResponsesAgainstDocuments();
