// Integration tests talk to real brokers, restart them and wait out failovers: minutes, not seconds.
jest.setTimeout(180_000);
