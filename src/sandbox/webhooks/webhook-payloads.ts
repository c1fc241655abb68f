import { buildDocument } from '../api/json-api.js';
import { RESOURCE_SCHEMAS } from '../api/resource-schema.js';
import type { Viewer } from '../api/resources.js';
import { memberResource, postResource } from '../api/resources.js';
import type { MemberRecord, PostRecord } from '../world/model.js';

const allFields = (...types: string[]) =>
  new Map(types.map((type) => [type, new Set(RESOURCE_SCHEMAS[type]?.attributes ?? [])]));

/**
 * docs/patreon-api.md §9.3: a full member (every attribute), relationships with
 * `links.related` on to-ones, the campaign, user and entitled tiers in
 * `included`, and a top-level `links.self`. Email and address follow the
 * scopes of the client that created the webhook (the viewer).
 */
export function memberPayload(member: MemberRecord, viewer: Viewer): string {
  const document = buildDocument(
    memberResource(member, viewer),
    {
      fields: allFields('member', 'campaign', 'user', 'tier', 'address'),
      include: [['address'], ['campaign'], ['currently_entitled_tiers'], ['user']],
    },
    { links: { self: `${viewer.baseUrl}/api/oauth2/v2/members/${member.id}` } },
  );
  return JSON.stringify(document);
}

/** The sandbox table: a post with its attributes and campaign/user relationships, or only `data.id` when thin. */
export function postPayload(post: PostRecord, viewer: Viewer, thin: boolean): string {
  if (thin) return JSON.stringify({ data: { id: post.id, type: 'post' } });
  const document = buildDocument(
    postResource(post, viewer),
    { fields: allFields('post', 'campaign', 'user'), include: [['campaign'], ['user']] },
    { links: { self: `${viewer.baseUrl}/api/oauth2/v2/posts/${post.id}` } },
  );
  return JSON.stringify(document);
}
