import { defineError } from '../shared/errors.js';

export const MemberNotFoundError = defineError('MEMBER_NOT_FOUND', 404, 'Member not found');
