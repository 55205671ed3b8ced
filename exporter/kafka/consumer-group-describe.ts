/**
 * ConsumerGroupDescribe version 0 (KIP-848, Kafka 4): describes groups whose members use the
 * new consumer protocol (`group.protocol=consumer`). The classic DescribeGroups, the only one
 * kafkajs speaks, answers for such a group "state Dead, protocol type '', no members" without an
 * error, which made an active consumer look like a vanished offset-only group. Like
 * offset-fetch-batch.ts, the body carries the request header's empty tagged-field section in
 * front and the response is read after its header's tagged fields. Pure: bytes in, plain data out.
 */
import { CompactReader, uvarint } from './compact-wire';


export const CONSUMER_GROUP_DESCRIBE_API_KEY = 69;
export const CONSUMER_GROUP_DESCRIBE_VERSION = 0;

export interface ConsumerGroupDescribed {
  readonly groupId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** `Empty`, `Assigning`, `Reconciling`, `Stable`, `Dead`. */
  readonly state: string;
  readonly members: { memberId: string; clientId: string; assignment: { topic: string; partitions: number[] }[] }[];
}

/** The request body (after the header's tagged fields): the group ids, no authorised operations. */
export function encodeConsumerGroupDescribe(groupIds: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(uvarint(groupIds.length + 1))];
  for (const id of groupIds) {
    const name = Buffer.from(id, 'utf8');
    parts.push(Buffer.from(uvarint(name.length + 1)), name);
  }
  parts.push(Buffer.from([0, 0])); // include_authorized_operations false, tagged fields
  return Buffer.concat(parts);
}

/** The response body (after the correlation id). */
export function decodeConsumerGroupDescribe(payload: Buffer): ConsumerGroupDescribed[] {
  const r = new CompactReader(payload, 'ConsumerGroupDescribe');
  r.skipTaggedFields(); // response header
  r.int32(); // throttle_time_ms
  const assignment = (): { topic: string; partitions: number[] }[] => {
    const topics = r.array(() => {
      r.skip(16); // topic_id
      const topic = r.string() ?? '';
      const partitions = r.array(() => r.int32());
      r.skipTaggedFields();
      return { topic, partitions };
    });
    r.skipTaggedFields();
    return topics;
  };
  const groups = r.array((): ConsumerGroupDescribed => {
    const errorCode = r.int16();
    const errorMessage = r.string();
    const groupId = r.string() ?? '';
    const state = r.string() ?? '';
    r.int32(); // group_epoch
    r.int32(); // assignment_epoch
    r.string(); // assignor_name
    const members = r.array(() => {
      const memberId = r.string() ?? '';
      r.string(); // instance_id
      r.string(); // rack_id
      r.int32(); // member_epoch
      const clientId = r.string() ?? '';
      r.string(); // client_host
      r.array(() => r.string()); // subscribed_topic_names
      r.string(); // subscribed_topic_regex
      const current = assignment();
      assignment(); // target_assignment
      r.skipTaggedFields();
      return { memberId, clientId, assignment: current };
    });
    r.int32(); // authorized_operations
    r.skipTaggedFields();
    return { groupId, errorCode, errorMessage, state, members };
  });
  r.skipTaggedFields();
  return groups;
}

/**
 * A group the classic DescribeGroups cannot see: listed as a `consumer` group, described as
 * `Dead` with no protocol type and no members. (A group deleted between the two requests looks
 * the same; ConsumerGroupDescribe then says GROUP_ID_NOT_FOUND.)
 */
export function looksLikeConsumerProtocolGroup(listedProtocolType: string | undefined, described: { state: string; protocolType?: string; members: number } | undefined): boolean {
  return listedProtocolType === 'consumer' && described !== undefined && described.state === 'Dead' && described.protocolType === '' && described.members === 0;
}
