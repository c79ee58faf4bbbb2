// These suites start real processes; a slow machine must not fail them on jest's 5 s default.
jest.setTimeout(30_000);
