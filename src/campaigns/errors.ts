import { defineError } from '../http/errors.js';

export const CampaignNotFoundError = defineError('CAMPAIGN_NOT_FOUND', 404, 'Campaign not found');
export const MemberNotFoundError = defineError('MEMBER_NOT_FOUND', 404, 'Member not found');
