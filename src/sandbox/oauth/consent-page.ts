import type { UserRecord } from '../world/model.js';
import { SCOPE_DESCRIPTIONS } from './scopes.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] as string);
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; background: #f6f4f1; color: #1f1f1f; margin: 0; }
  main { max-width: 30rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
  .note { color: #666; font-size: .9rem; margin: 0 0 1.5rem; }
  fieldset { border: 1px solid #ddd; border-radius: 8px; margin: 0 0 1.25rem; padding: .75rem 1rem; }
  legend { font-weight: 600; padding: 0 .25rem; }
  small { color: #777; }
  label { display: block; padding: .2rem 0; cursor: pointer; }
  ul { margin: .25rem 0 0; padding-left: 1.25rem; }
  .actions { display: flex; gap: .75rem; }
  button { flex: 1; font: inherit; padding: .6rem; border-radius: 8px; border: 1px solid #1f1f1f; cursor: pointer; }
  button[value=allow] { background: #1f1f1f; color: #fff; }
  button[value=deny] { background: #fff; }
  .error { border-left: 4px solid #c0392b; padding-left: 1rem; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>`;
}

export interface ConsentView {
  requestId: string;
  decisionUrl: string;
  clientName: string;
  redirectHost: string;
  scopes: readonly string[];
  /** Each user with a short hint of who they are in the sandbox (e.g. "declined patron"). */
  users: readonly { user: UserRecord; hint: string }[];
}

/** The sandbox's stand-in for Patreon's "Allow access" screen: pick who is logging in, then Allow or Deny. */
export function consentPage(view: ConsentView): string {
  const users = view.users
    .map(({ user, hint }, i) => {
      const checked = i === 0 ? ' checked' : '';
      return `<label><input type="radio" name="user_id" value="${escapeHtml(user.id)}"${checked}> ${escapeHtml(user.attributes.full_name)} <small>#${escapeHtml(user.id)} · ${escapeHtml(hint)}</small></label>`;
    })
    .join('\n');
  const scopes = view.scopes
    .map(
      (scope) =>
        `<li><code>${escapeHtml(scope)}</code>: ${escapeHtml(SCOPE_DESCRIPTIONS[scope] ?? scope)}</li>`,
    )
    .join('\n');
  return page(
    'Allow access? Patreon sandbox',
    `<h1>${escapeHtml(view.clientName)} wants to access your Patreon account</h1>
<p class="note">Sandbox Patreon. You will be sent back to ${escapeHtml(view.redirectHost)}.</p>
<form method="post" action="${escapeHtml(view.decisionUrl)}">
<input type="hidden" name="request_id" value="${escapeHtml(view.requestId)}">
<fieldset><legend>Log in as</legend>
${users}
</fieldset>
<fieldset><legend>This app will be able to</legend>
<ul>
${scopes}
</ul>
</fieldset>
<div class="actions">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>`,
  );
}

export function errorPage(title: string, detail: string): string {
  return page(
    `${title}: Patreon sandbox`,
    `<div class="error"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></div>`,
  );
}
