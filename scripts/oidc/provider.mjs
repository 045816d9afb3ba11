// A real OpenID Connect provider (npm's certified `oidc-provider`) on loopback, for the
// tests and the demo. NEVER for production: any password is accepted.
//
//   PORT=8010 node scripts/oidc/provider.mjs
//
// Environment:
//   PORT            port on 127.0.0.1 (default 8010); the issuer is http://127.0.0.1:PORT
//   ACCOUNTS_FILE   JSON {"<login>": {"name": ..., "email": ..., "groups": [...]}}, read at
//                   every login so a test can change someone's groups between two logins.
//                   More than 200 groups: the ID token carries Entra ID's overage claim
//                   (_claim_names/_claim_sources) instead of the groups.
//                   A login that is not in the file signs in with no groups.
//   CLIENT_ID, CLIENT_SECRET   the portal's client (default attestportal / dev-secret)
//   OTHER_CLIENT_ID            a second client, for "wrong audience" tests (default other-app)
import crypto from 'node:crypto';
import fs from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 8010);
const issuer = `http://127.0.0.1:${port}`;
const accountsFile = process.env.ACCOUNTS_FILE || '';
const clientId = process.env.CLIENT_ID || 'attestportal';
const clientSecret = process.env.CLIENT_SECRET || 'dev-secret';
const otherClientId = process.env.OTHER_CLIENT_ID || 'other-app';

function readAccounts() {
  if (!accountsFile || !fs.existsSync(accountsFile)) return {};
  return JSON.parse(fs.readFileSync(accountsFile, 'utf8'));
}

// Loopback only: any http://127.0.0.1|localhost|testserver:<port>/... redirect is allowed,
// because the portal under test listens on a port chosen at run time.
function loopback(uri) {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', 'testserver'].includes(url.hostname);
  } catch {
    return false;
  }
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'dev-key-1', use: 'sig', alg: 'RS256' };

const client = (id, secret) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: ['http://127.0.0.1:8000/oidc/callback/'],
  post_logout_redirect_uris: ['http://127.0.0.1:8000/log-ind/'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: 'RS256',
});

const configuration = {
  clients: [client(clientId, clientSecret), client(otherClientId, 'other-secret')],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  // Like Entra ID, put the requested claims (groups) in the ID token as well.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Sign out without asking: the portal's own logout button already asked.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><head><title>Sign-out</title></head><body>
          ${form}<button form="op.logoutForm" type="submit" name="logout" value="yes">Sign out</button>
          <script>var f=document.getElementById('op.logoutForm');var i=document.createElement('input');
          i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();</script></body></html>`;
      },
    },
  },
  async findAccount(ctx, sub) {
    const record = readAccounts()[sub] || {};
    return {
      accountId: sub,
      async claims() {
        const groups = record.groups || [];
        // Like Entra ID past 200 groups: none in the token, an overage claim instead.
        const overage = groups.length > 200
          ? {
            _claim_names: { groups: 'src1' },
            _claim_sources: { src1: { endpoint: `https://graph.windows.net/tenant/users/${sub}/getMemberObjects` } },
          }
          : { groups };
        return {
          ...overage,
          sub,
          name: record.name || sub,
          given_name: record.given_name || (record.name || sub).split(' ')[0],
          family_name: record.family_name || (record.name || sub).split(' ').slice(1).join(' '),
          preferred_username: sub,
          email: record.email || `${sub}@kommune.example`,
          email_verified: true,
        };
      },
    };
  },
  // First-party portal: no consent screen, every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
  return loopback(uri);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(uri) {
  return loopback(uri);
};

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
