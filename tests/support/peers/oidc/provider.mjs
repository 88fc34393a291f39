// A certified OpenID Connect provider (the npm package oidc-provider) for the console's
// sign-in tests: one client, the accounts the test names, its own development login and
// consent pages (devInteractions: any password, the login is the account id), which a real
// browser fills in. tests/support/peers/oidc.py starts it; its configuration arrives as
// JSON in the KATHA_TEST_OIDC environment variable:
//   {"port", "client_id", "client_secret", "redirect_uri", "auth_method",
//    "accounts": {"<login>": {"name": ..., "katha_businesses": [...]}}}
// It prints "listening <issuer>" once it answers, and stops on SIGTERM.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.KATHA_TEST_OIDC);
const issuer = `http://127.0.0.1:${config.port}`;

// A signing key made for this run: nothing secret is kept in the repository.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'katha-test', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: [config.redirect_uri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: config.auth_method,
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // The Businesses claim rides with the openid scope, so every ID token carries it
  // whatever else the console asks for; conformIdTokenClaims off puts it in the ID token
  // itself, not only behind the userinfo endpoint.
  claims: {
    openid: ['sub', 'katha_businesses'],
    profile: ['name'],
    email: ['email'],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined; // an unknown login fails, as at a real provider
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
});

// Development-only warnings are expected here; errors a test should see go to stderr.
provider.on('server_error', (ctx, error) => console.error('server_error', error));

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
