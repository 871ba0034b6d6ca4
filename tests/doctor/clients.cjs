// Runs undici's EnvHttpProxyAgent on NO_PROXY cases (doctor tests): JSON cases
// [{"env": {...}, "url": "..."}] on stdin, one line per case: "direct", "proxy"
// or "error". CommonJS, so NODE_PATH finds the lab's undici.
const { EnvHttpProxyAgent, request } = require('undici');

const VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy',
  'ALL_PROXY', 'no_proxy', 'NO_PROXY'];

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  for (const c of JSON.parse(input)) {
    for (const v of VARS) delete process.env[v];
    Object.assign(process.env, c.env);
    const agent = new EnvHttpProxyAgent();
    let answer = 'error';
    try {
      const r = await request(c.url, { dispatcher: agent, headersTimeout: 3000, bodyTimeout: 3000 });
      answer = (await r.body.text()).trim() || 'error';
    } catch (e) {
      answer = 'error';
    }
    await agent.close();
    console.log(answer);
  }
}
main();
