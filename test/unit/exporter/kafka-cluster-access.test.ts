import { Kafka, logLevel } from 'kafkajs';
import { createClusterAccess } from '../../../exporter/kafka/cluster-access';

describe('createClusterAccess', () => {
  it('finds kafkajs\'s internal cluster factory on a real client (fails loudly if a kafkajs upgrade moves it)', () => {
    // Building the cluster does not connect; nothing listens on this port.
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const access = createClusterAccess(kafka);
    expect(access).toBeDefined();
    expect(typeof access?.fetchRecords).toBe('function');
  });

  it('reports undefined (the public-API fallback) for a client without it', () => {
    expect(createClusterAccess({} as Kafka)).toBeUndefined();
    const wrong = { [Symbol('private:Kafka:createCluster')]: () => ({ connect: () => undefined }) };
    expect(createClusterAccess(wrong as unknown as Kafka)).toBeUndefined();
  });
});
